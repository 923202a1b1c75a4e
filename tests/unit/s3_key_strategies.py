"""Hypothesis strategies for the parts of S3 keys: any text S3 can store, prefixes of any size."""

from hypothesis import strategies as st

# Any character S3 can store (lone surrogates cannot be UTF-8 encoded, so no key holds one).
key_characters = st.characters(exclude_categories=["Cs"])
# Prefixes of any script, long ones often: a short text repeated up to 600 times.
prefixes = st.builds(
    lambda unit, times: unit * times,
    st.text(key_characters, max_size=4),
    st.integers(min_value=0, max_value=600),
)
# Ids the functions put in keys (event ids, log event ids), as they come.
ids = st.text(key_characters, min_size=1, max_size=300)
