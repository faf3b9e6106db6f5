//! Where a Vobiz credential pair is checked: the partner API's `/api/v1/partner/me` for partner
//! ids, the account's own `/api/v1/Account/{auth_id}/` for customer auth ids; and which pairs are
//! never sent (test-mode tokens).

/// The id rules whose ids are customer (sub-account) auth ids, checked on their account
/// (`/api/v1/Account/{auth_id}/`) rather than on the partner API.
pub(crate) const CUSTOMER_ID_RULES: &[&str] =
    &["vobiz-customer-auth-id", "vobiz-messaging-auth-id"];

/// The token rules for test-mode tokens. Vobiz documents no test environment to check them
/// against, so they are paired but never sent.
pub(crate) const TEST_TOKEN_RULES: &[&str] = &["vobiz-test-token"];

/// The path (below the base URL) a pair with this id is checked on: the partner API's
/// `/api/v1/partner/me` for partner ids, the account's own `/api/v1/Account/{auth_id}/` for
/// customer auth ids. `None` for an id that cannot be put in a URL path as it is (only a user's
/// own rule could find one).
pub(crate) fn check_path(id_rule: &str, id: &str) -> Option<String> {
    if !CUSTOMER_ID_RULES.contains(&id_rule) {
        return Some(super::ME_PATH.to_string());
    }
    let safe = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    safe.then(|| format!("{}/{id}/", super::ACCOUNT_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_are_checked_on_their_account() {
        assert_eq!(
            check_path("vobiz-partner-id", "partner-fake7f3a9c2e41b8").as_deref(),
            Some("/api/v1/partner/me")
        );
        assert_eq!(
            check_path("vobiz-customer-auth-id", "MA_6IJANV8A3FAKEQQJE4").as_deref(),
            Some("/api/v1/Account/MA_6IJANV8A3FAKEQQJE4/")
        );
        assert_eq!(check_path("vobiz-customer-auth-id", "MA_/../x?"), None);
    }
}
