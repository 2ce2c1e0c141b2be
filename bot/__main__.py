"""``python -m bot``: the same as the ``upbit-bot`` console script."""

from bot.cli import main

raise SystemExit(main())
