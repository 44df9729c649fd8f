"""Small rules about text and links that several modules share, written once."""


def lower_first(text):
    """`text` as it reads mid-sentence: 'Not approved' -> 'not approved', 'Wrinkles' ->
    'wrinkles', but 'RF microneedling' and 'UV damage' stay as they are. English's rule, for a
    label placed inside an English sentence; a translation words such a label as its own
    language needs (the sentence is its msgid, the label a placeholder)."""
    if text[1:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def with_query(path, query):
    """`path` with `query` (already encoded) after a "?", or `path` alone when there is none."""
    return f"{path}?{query}" if query else path
