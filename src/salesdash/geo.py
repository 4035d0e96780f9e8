"""Country names as written in the data -> ISO 3166 alpha-3 codes (for maps)."""

from __future__ import annotations

from functools import lru_cache

import pycountry

# Names common in sales data that ISO's own name lookup does not resolve.
ALIASES = {
    "UK": "GBR",
    "U.K.": "GBR",
    "England": "GBR",
    "Great Britain": "GBR",
    "US": "USA",
    "U.S.A.": "USA",
    "United States of America": "USA",
    "Russia": "RUS",
    "South Korea": "KOR",
    "Korea": "KOR",
    "Taiwan": "TWN",
    "Iran": "IRN",
    "Vietnam": "VNM",
    "Czech Republic": "CZE",
    "Holland": "NLD",
}


@lru_cache(maxsize=4096)
def iso3(country: str) -> str | None:
    """ISO-3 code of ``country`` as written in the data, or None when it is not a known country."""
    name = country.strip()
    if name in ALIASES:
        return ALIASES[name]
    try:
        return str(pycountry.countries.lookup(name).alpha_3)
    except LookupError:
        return None
