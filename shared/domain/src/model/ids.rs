//! Ids that several models name. `SourceId` lives here, not beside
//! `Source`, so that the secrets' encryption context can name it without a
//! cycle between `source` and `secrets`.

ulid_id!(
    /// `src_` followed by a ULID: sortable by creation time, unguessable enough
    /// not to leak counts, and recognisable in logs.
    SourceId,
    "src_",
    "source id"
);
