"""History download (``upbit-bot download``): candles from Upbit's REST API into the store or
into files, resumable, with the intervals Upbit leaves out filled explicitly.

``downloader`` pages backwards through ``UpbitRestClient.candles`` (its limiter keeps the
quotation budget), ``series`` fills empty intervals, ``files`` and ``store_candles`` are the
targets, ``store_candles.load_frame`` reads the store back for the backtester.
"""
