"""Trading data model, one module per area."""

from trading.models.accounts import Role, User  # noqa: F401
from trading.models.announcements import Announcement, AnnouncementAttachment, AnnouncementKind  # noqa: F401
from trading.models.credit import CreditRecord  # noqa: F401
from trading.models.entities import (  # noqa: F401
    BankAccount,
    EntityKind,
    EntityStatus,
    EntityVersion,
    MarketEntity,
    Person,
    Position,
    PositionRole,
    Qualification,
    Shareholder,
)
from trading.models.evidence import ActivityEvidence, Notification  # noqa: F401
from trading.models.pki import AuthChallenge, Certificate, CertificateStatus  # noqa: F401
from trading.models.tenders import (  # noqa: F401
    Category,
    CodeSequence,
    DecryptionPolicy,
    DocumentDownload,
    EvaluationMethod,
    Lot,
    ProcurementMethod,
    Regime,
    Tender,
    TenderState,
)
