"""Account providers: who a bearer token belongs to (spec/desktop-security-cloud.md §2.2).

The contract is in :mod:`.contract`; providers are contributed by plugins through
``visa_register_account_providers`` and one is chosen by ``VISA_ACCOUNTS_PROVIDER``
(:mod:`.selection`). Authentications are cached per token for 30 s (:mod:`.cache`), as VISA
does.
"""
