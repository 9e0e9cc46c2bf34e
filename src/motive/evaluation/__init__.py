"""Evaluation: ranking metrics and the filtered full ranking (``metrics``, ``full_ranking``),
bootstrap intervals (``intervals``), expected precision (``calibration``), a trained model's
evaluation per stage (``evaluator``), scoring predictions made outside motive (``scoring``) and
the rule that claims or refuses a win (``claims``)."""
