"""Snapshots of real on-chain state for the simulated venues.

`bot snapshot import FILE --name NAME` (or `bot snapshot fetch --rpc URL ...`) decodes real accounts and
stores what the simulated venues need, under ``<runs_dir>/snapshots/NAME.json`` with the slot and time it
was taken; `bot route --snapshot NAME` and `bot backtest --snapshot NAME` then build SimDrift and the
Raydium sims from it instead of their default liquidity model.

Input FILE, one of two shapes (JSON):

* **accounts** — the account objects ``getMultipleAccounts`` returns, each with its address and kind::

      {"context": {"slot": 301234567},            # or "slot": ...; optional
       "taken_at": "2026-11-20T12:00:00Z",        # optional (ISO 8601, UTC)
       "source": "where the bytes come from",     # optional, kept in the snapshot
       "accounts": [
         {"pubkey": "8UJgxa…", "kind": "drift_perp_market",
          "owner": "dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH",
          "data": ["<base64>", "base64"], "lamports": 0, "executable": false, "rentEpoch": 0}, …]}

  ``kind``: ``drift_perp_market``, ``drift_spot_market`` (Drift ``PerpMarket``/``SpotMarket``, decoded
  with driftpy's IDL), ``raydium_amm_v4``, ``raydium_cpmm``, ``raydium_clmm`` (a pool), and the accounts a
  pool is priced with: ``spl_token`` (its vaults), ``raydium_cpmm_config``, ``raydium_clmm_config``,
  ``raydium_clmm_tick_array``; ``openbook_market`` (an OpenBook v2 ``Market``) with its two
  ``openbook_book_side`` accounts. ``data`` may also be a bare base64 string.
* **Raydium API v3** — a ``/pools/info/ids`` or ``/pools/info/list-v2`` answer (``{"success": true,
  "data": [...]}`` or ``{"data": {"data": [...]}}``): AMM v4 and CPMM pools take the API's token amounts
  as reserves and its fee rate; a CLMM takes the API's price and TVL over the sim's CLMM liquidity model
  (the API has no ticks).

A snapshot replaces, per venue: SimDrift's market parameters (margin ratios, IMF factor, liquidation fees,
grids, high-leverage ratios, unrealized-pnl weights, funding period) and its vAMM (base/quote reserves,
peg relative to the snapshot's oracle, long/short spreads); each Raydium pool's reserves and fee terms
(AMM v4, CPMM) or its sqrt price, liquidity and initialized ticks (CLMM); SimOpenBook's lot sizes, fees
and depth profile calibrated to the real book (touch spread, depth within 1 %; ``snapshot.openbook``).
Drift spot markets are decoded and stored, not yet applied (SimDrift's collateral weights stay the
documented ones).
"""
