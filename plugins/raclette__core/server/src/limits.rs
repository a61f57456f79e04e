//! Sign-in rate limits, per account and per client address (`governor`,
//! GCRA): a burst of the per-minute allowance, refilled evenly.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

/// The limits of sign-in attempts.
pub(crate) struct SignInLimits {
    accounts: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
}

impl std::fmt::Debug for SignInLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLimits").finish_non_exhaustive()
    }
}

/// Forgetting idle keys keeps the limiters' memory bounded.
const SWEEP_ABOVE: usize = 10_000;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl SignInLimits {
    pub(crate) fn new(per_account: u32, per_address: u32) -> Self {
        SignInLimits {
            accounts: RateLimiter::keyed(per_minute(per_account)),
            addresses: RateLimiter::keyed(per_minute(per_address)),
        }
    }

    /// Counts an attempt for `email` from `address`; when either is over
    /// its limit, how long to wait.
    pub(crate) fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        if self.accounts.len() > SWEEP_ABOVE {
            self.accounts.retain_recent();
        }
        if self.addresses.len() > SWEEP_ABOVE {
            self.addresses.retain_recent();
        }
        if let Some(address) = address {
            self.addresses
                .check_key(&address)
                .map_err(|until| until.wait_time_from(now))?;
        }
        self.accounts
            .check_key(&email.to_owned())
            .map_err(|until| until.wait_time_from(now))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_account_is_limited_apart_from_others() {
        let limits = super::SignInLimits::new(2, 100);
        let ip = Some("10.0.0.1".parse().unwrap());
        assert!(limits.attempt("a@b.c", ip).is_ok());
        assert!(limits.attempt("a@b.c", ip).is_ok());
        assert!(limits.attempt("a@b.c", ip).unwrap_err().as_secs() <= 60);
        assert!(limits.attempt("z@b.c", ip).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let limits = super::SignInLimits::new(100, 2);
        let ip = Some("10.0.0.2".parse().unwrap());
        assert!(limits.attempt("a@b.c", ip).is_ok());
        assert!(limits.attempt("b@b.c", ip).is_ok());
        assert!(limits.attempt("c@b.c", ip).is_err());
        assert!(
            limits
                .attempt("c@b.c", Some("10.0.0.3".parse().unwrap()))
                .is_ok()
        );
    }
}
