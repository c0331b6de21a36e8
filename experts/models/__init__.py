"""The experts app's data: the shared pool, the verifiable draw, the evaluation room, the award."""

from .award import Award, Publicity, PublicityObjection, ResultNotice
from .draw import Assignment, Draw
from .evaluation import (
    Clarification,
    EvaluationRoom,
    LowPriceJustification,
    Member,
    Outlier,
    Report,
    ReportRevision,
    ReportSignature,
    Review,
    Score,
)
from .pool import (
    Employment,
    Expert,
    ExpertSpecialty,
    ProfileChange,
    Rating,
    Relationship,
    Sanction,
    Specialty,
    Unavailability,
)

__all__ = [
    "Assignment",
    "Award",
    "Clarification",
    "Draw",
    "Employment",
    "EvaluationRoom",
    "Expert",
    "ExpertSpecialty",
    "LowPriceJustification",
    "Member",
    "Outlier",
    "ProfileChange",
    "Publicity",
    "PublicityObjection",
    "Rating",
    "Relationship",
    "Report",
    "ReportRevision",
    "ReportSignature",
    "ResultNotice",
    "Review",
    "Sanction",
    "Score",
    "Specialty",
    "Unavailability",
]
