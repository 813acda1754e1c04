"""technical_notices: 技术通报, technical notices from 技质部 to every customer holding an affected
model (issue 18); in code "technical notice", never "notice" alone (that is an inbox message).

- ``vocab.py``       the words: tables, kinds, states 草稿 → 已发布 → 已完成, delivery methods, the error
- ``selection.py``   the affected products: by model, serial range, delivery dates or a pasted list;
  ``covered_serials`` for section 9's statistics
- ``notices.py``     the notice record: draft, edit, issue (products frozen, PDF archived), done; who may
- ``document.py``    the A4 PDF and its archiving when issued (one function: ``archive``)
- ``deliveries.py``  per customer: delivery, acknowledgement, progress; the daily follow-up task (8.1)
- ``campaign.py``    the on-site campaign: a case per affected product (records.cases.from_notice)
"""
