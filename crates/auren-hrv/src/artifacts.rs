//! Artifact detection and correction after Lipponen & Tarvainen (2019), the Kubios automatic method.

/// The kind of a flagged beat, as Lipponen & Tarvainen label them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    Ectopic,
    Missed,
    Extra,
    LongShort,
}

impl ArtifactKind {
    /// The stable snake_case name used in JSON output, the database and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Ectopic => "ectopic",
            ArtifactKind::Missed => "missed",
            ArtifactKind::Extra => "extra",
            ArtifactKind::LongShort => "long_short",
        }
    }
}
