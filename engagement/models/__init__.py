from .ledger import Activity, EarningRule, LedgerEntry, Member

__all__ = ["Activity", "EarningRule", "LedgerEntry", "Member"]
