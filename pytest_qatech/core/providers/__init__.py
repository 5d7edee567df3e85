"""One module per remote testing platform, each a :class:`~.base.Provider` (its API's paths,
field names and vocabulary), over the interface in :mod:`.base` and the body reader in
:mod:`.body`. The registry of them is :data:`pytest_qatech.core.platforms.PROVIDERS`."""
