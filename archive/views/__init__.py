"""Thin views of the archive: `browse` for regulators and centre staff (search, package pages, the
four-property check, export, disposal), `public` for everyone (public files, roots, receipt check);
`common` holds access, labels, parsing and file responses."""
