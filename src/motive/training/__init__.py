"""Training: the settings of one run (``config``), the stage graphs a split gives a model
(``prepare``), the loop and its run folder (``loop``, ``runs``), negative sampling per epoch
(``sampling``) and what one process keeps between runs of a grid (``memo``)."""
