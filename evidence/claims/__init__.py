"""Claims: the ledger, study designs, passages, and the judgement of a claim's evidence."""
