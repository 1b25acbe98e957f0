"""The pure core: ids, money, instruments, market data, orders, events, positions, portfolio, errors.

Standard library only (DESIGN §3). Money is `Decimal`, quantized by the instrument (DESIGN C1).
"""
