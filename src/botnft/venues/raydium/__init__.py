"""Raydium live adapter: the data API v3 and trade API client (`api`), decoders of the on-chain pool
accounts (`layouts`), decoded pools priced with the project's program math (`pools`), and the execution
client that swaps through the trade API and the Solana sender (`execution`, which needs the ``solana`` extra).
"""
