"""Chat transports as plug-ins: the protocol each implements (``base``) and the one module
that lists them (``wiring``). Nothing else names a concrete transport; the app, the notifier,
the config and the credential check loop over ``wiring.TRANSPORTS``.

Kept light (no imports here): a transport's own config section is read by ``bot.config``,
which must not load python-telegram-bot or slack-bolt to do so.
"""
