"""Honest validation: grouped folds and a held-out part over PTC articles (``protocol``),
the runner that trains and scores a candidate on them, and the analysis of why the old
random article split flattered TC (``gap``; docs/VALIDATION.md)."""
