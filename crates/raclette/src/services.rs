use std::{
    any::{Any, TypeId},
    collections::HashMap,
    sync::Arc,
};

/// The typed services that plugins provide to the plugins depending on them.
///
/// One per app; the runtime hands it to each plugin's [`crate::Registrar`]
/// in turn.
#[derive(Default)]
pub struct ServiceRegistry {
    entries: HashMap<TypeId, Entry>,
}

struct Entry {
    provider: String,
    type_name: &'static str,
    value: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for ServiceRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.values().map(|e| (e.type_name, &e.provider)))
            .finish()
    }
}

impl ServiceRegistry {
    /// Adds a service; returns the earlier provider's folder when the type is
    /// already provided.
    pub(crate) fn insert<T: Send + Sync + 'static>(
        &mut self,
        provider: &str,
        value: Arc<T>,
    ) -> Result<(), String> {
        let type_id = TypeId::of::<T>();
        if let Some(existing) = self.entries.get(&type_id) {
            return Err(existing.provider.clone());
        }
        let entry = Entry {
            provider: provider.to_owned(),
            type_name: std::any::type_name::<T>(),
            value,
        };
        self.entries.insert(type_id, entry);
        Ok(())
    }

    /// The services whose provider is one of `allowed`, by type.
    pub(crate) fn usable_by(
        &self,
        allowed: &std::collections::BTreeSet<String>,
    ) -> Vec<(TypeId, Arc<dyn Any + Send + Sync>)> {
        self.entries
            .iter()
            .filter(|(_, entry)| allowed.contains(&entry.provider))
            .map(|(type_id, entry)| (*type_id, Arc::clone(&entry.value)))
            .collect()
    }

    /// The service of type `T` and the folder of the plugin providing it.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<(Arc<T>, &str)> {
        let entry = self.entries.get(&TypeId::of::<T>())?;
        let value = Arc::clone(&entry.value).downcast::<T>().ok()?;
        Some((value, &entry.provider))
    }
}
