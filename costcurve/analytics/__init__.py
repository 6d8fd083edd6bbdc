"""Pure cost-curve, deflation, self-hosting and break-even maths over polars frames.

Nothing here touches a database, settings or the network: callers (db queries,
flows, the API, the CLI) build frames and pass them in. Money arrives as
Decimal (a polars ``Decimal`` column or a Python ``Decimal``) and is converted
to Float64 once, by :func:`costcurve.analytics.money.to_float_prices` /
:func:`costcurve.analytics.money.to_float`, at the entry of every public function;
everything after that boundary is float, which is what logs, quantiles and
least squares need.
"""
