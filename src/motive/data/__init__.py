"""Data: raw public sources (``sources``) and registered datasets (``datasets``) become a graph
(``build``, under MOTIVE's rules), held as ``graph.Graph`` and read or written in the official
file layout (``layout``); ``synth`` makes graphs of any size, ``views`` the compounds' structure
fingerprints, ``profiles`` one profile per compound from Cell Painting plates, ``stats`` the
paper's Table 2."""
