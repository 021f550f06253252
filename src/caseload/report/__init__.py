"""Reports to look at rather than read: the morning report (``caseload report morning``).

``figures`` works out each section's numbers from the store's own queries (the
workload and audit queries the ``workload`` and ``audit`` commands run), ``charts``
draws them as SVG with pygal, and ``render`` puts figures and charts through the
jinja2 templates in ``templates/`` into one self-contained HTML page. A section is
one entry in ``figures.SECTIONS``: a figures function, a chart function and a
template partial, so a new section (due in the next 7 days, absences coming,
Victims' Code compliance) is one more entry of each.
"""
