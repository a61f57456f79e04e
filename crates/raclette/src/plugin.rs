use crate::{Registrar, Result};

/// A plugin's server half.
///
/// Usually a plain function `fn plugin(app: &mut Registrar) -> Result<()>`,
/// which implements this trait; a type can implement it too when it carries
/// set-up data of its own.
///
/// ```
/// use raclette::{Plugin, Registrar};
///
/// struct Greeter { greeting: &'static str }
///
/// impl Plugin for Greeter {
///     fn build(&self, app: &mut Registrar) -> raclette::Result<()> {
///         let greeting = self.greeting;
///         app.on_mounted(move || async move {
///             raclette::tracing::info!("{greeting}");
///             Ok(())
///         });
///         Ok(())
///     }
/// }
/// # let _ = Greeter { greeting: "hi" };
/// ```
pub trait Plugin: Send + Sync + 'static {
    /// Registers the plugin's behaviour. Called once, in dependency order.
    fn build(&self, app: &mut Registrar) -> Result<()>;
}

impl<F> Plugin for F
where
    F: Fn(&mut Registrar) -> Result<()> + Send + Sync + 'static,
{
    fn build(&self, app: &mut Registrar) -> Result<()> {
        self(app)
    }
}
