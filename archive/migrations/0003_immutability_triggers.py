"""On PostgreSQL, the database itself refuses to change archived rows (issue 6 item 3), whatever client
writes: journal entries and published roots are append-only; a package's row changes only from sealed to
disposed once its disposal has been approved by a second person; its files are deleted only then.

SQLite relies on the application-level refusal (archive.immutability)."""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION archive_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'archive_immutable: ' || TG_OP || ' on ' || TG_TABLE_NAME || ' refused, archived rows are immutable';
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION archive_package_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.status = 'sealed' AND NEW.status = 'disposed' AND NEW.disposed_at IS NOT NULL
       AND (to_jsonb(NEW) - 'status' - 'disposed_at') = (to_jsonb(OLD) - 'status' - 'disposed_at')
       AND EXISTS (SELECT 1 FROM archive_disposal d
                   WHERE d.package_id = OLD.id AND d.status = 'executed'
                     AND d.decided_by_id <> '' AND d.decided_by_id <> d.requested_by_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'archive_immutable: ' || TG_OP || ' on archive_archivepackage refused';
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION archive_file_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM archive_archivepackage p
                                    WHERE p.id = OLD.package_id AND p.status = 'disposed') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'archive_immutable: ' || TG_OP || ' on archive_archivefile refused';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER archive_journalentry_immutable BEFORE UPDATE OR DELETE ON archive_journalentry
    FOR EACH ROW EXECUTE FUNCTION archive_refuse();
CREATE TRIGGER archive_archiveroot_immutable BEFORE UPDATE OR DELETE ON archive_archiveroot
    FOR EACH ROW EXECUTE FUNCTION archive_refuse();
CREATE TRIGGER archive_disposal_kept BEFORE DELETE ON archive_disposal
    FOR EACH ROW EXECUTE FUNCTION archive_refuse();
CREATE TRIGGER archive_archivepackage_immutable BEFORE UPDATE OR DELETE ON archive_archivepackage
    FOR EACH ROW EXECUTE FUNCTION archive_package_guard();
CREATE TRIGGER archive_archivefile_immutable BEFORE UPDATE OR DELETE ON archive_archivefile
    FOR EACH ROW EXECUTE FUNCTION archive_file_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS archive_journalentry_immutable ON archive_journalentry;
DROP TRIGGER IF EXISTS archive_archiveroot_immutable ON archive_archiveroot;
DROP TRIGGER IF EXISTS archive_disposal_kept ON archive_disposal;
DROP TRIGGER IF EXISTS archive_archivepackage_immutable ON archive_archivepackage;
DROP TRIGGER IF EXISTS archive_archivefile_immutable ON archive_archivefile;
DROP FUNCTION IF EXISTS archive_refuse();
DROP FUNCTION IF EXISTS archive_package_guard();
DROP FUNCTION IF EXISTS archive_file_guard();
"""


def _run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("archive", "0002_packages")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
