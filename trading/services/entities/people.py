"""People behind the entities: one row per identity document."""

from __future__ import annotations

import hashlib

from trading.models import Person


def person_id_digest(id_type: str, id_number: str) -> str:
    return hashlib.sha256(f"person:{id_type}:{id_number.strip().upper()}".encode()).hexdigest()


def person_upsert(
    *, name: str, id_number: str, id_type: str = "resident_id", phone: str = "", email: str = ""
) -> Person:
    """One row per identity document, so one person acting for two entities is one node."""
    d = person_id_digest(id_type, id_number)
    person, created = Person.objects.get_or_create(
        id_digest=d,
        defaults={
            "name": name,
            "id_type": id_type,
            "id_number": id_number.strip().upper(),
            "phone": phone,
            "email": email,
        },
    )
    if not created and ((phone and person.phone != phone) or (email and person.email != email)):
        person.phone = phone or person.phone
        person.email = email or person.email
        person.save(update_fields=["phone", "email"])
    return person
