"""The Tern adapter: a second venue built by following docs/architecture.md's adapter recipe.

Tern is fictitious; it speaks JSON text with its own words (``BTC/KRW`` symbols, sides ``1``
and ``2``, ``LMT``/``MKT`` orders, ``NEW``/``PARTIAL``/``DONE``/``KILLED`` states, numbered
errors). Each numbered item of the recipe is one module here:

1. the order seam: ``exchange.TernExchange`` (``trading.exchange.Exchange``);
2. the one mapping module: ``mapping``;
3. client identifiers: Tern's ``client_tag``, placed and looked up by ``TernExchange``;
4. market rules: ``rules.TernRules``;
5. balances: ``mapping.balance``;
6. market data: ``feed.TernTradeFeed``, ``TernExchange.candles``, ``mapping.book_snapshot``;
7. its tests: ``tests/adapter_recipe/`` against ``tests/adapter_recipe/fake.py``.

Nothing here imports ``trading.upbit``; ``tests/adapter_recipe/test_recipe.py`` checks it.
"""
