"""Every clause of 售后服务管理规定 (../shared/regulation.zh.md) and where it is implemented.

``CLAUSES`` maps a clause to the dotted names (relative to ``records``) that implement it, or to
``"planned: <area>"`` for what a later issue builds. tests/test_architecture.py resolves every
name and checks that its docstring (or its ``Rule.clause``) cites the clause, so that one lookup
answers "where is 6.2.8?" instead of opening nine files. ``NONE`` lists the housekeeping
transitions of the case workflow that implement no clause (``Transition.clause is None``).

Sections 1, 2 and 4 (purpose, scope, the products covered) set the frame and need no code.
"""
from __future__ import annotations

CLAUSES: dict[str, tuple[str, ...]] = {
    "3.1": ("users.roles.is_tq", "cases.steps.decision.decide", "cases.steps.report.confirm",
            "materials.returns.receive_tx", "materials.inspections.record_tx", "cases.steps.handin.inspection_cause_tx",
            "materials.parts.insert_tx", "materials.stock.receipt_tx", "materials.stock.adjust_tx",
            "materials.stock.low_stock", "materials.stock.resolve_discrepancy_tx", "materials.purchases.request_tx",
            "materials.purchases.decide_tx", "materials.purchases.receive_tx",
            "materials.warranty.within_warranty", "materials.claims.normalise", "materials.claims.send",
            "materials.claim_notice.render", "materials.claim_reminders.remind"),
    "3.2": ("cases.steps.quote.customer_response",),
    "5.1.1.1": ("cases.steps.decision.check_solution", "cases.steps.decision.decide"),
    "5.1.1.2": ("cases.steps.decision.check_solution", "cases.steps.quote.quote"),
    "5.1.1.3": ("policy.DISPATCH", "calendar.time_limits.dispatch_deadline", "cases.steps.decision.arrival_from",
                "cases.steps.onsite.arrive", "jobs.overdue.run_overdue",
                "cases.deadlines.arrival_since", "cases.deadlines.provisional_arrival"),
    "5.2.1": ("cases.workflow.intake",),
    "5.2.2": ("cases.steps.decision.decide",),
    "5.2.3": ("cases.steps.decision.check_solution", "cases.steps.quote.quote"),
    "5.2.4": ("cases.steps.quote.price", "cases.flow.quote_priced", "materials.parts.set_sale_price_tx",
              "cases.steps.quote.catalogue_part"),
    "5.2.5": ("cases.steps.quote.send_quote", "cases.steps.quote.customer_response", "cases.notes.add_note",
              "cases.quotation.render_quotation"),
    "6.1.1": ("cases.workflow.intake", "cases.steps.intake.hand_over_at_recording", "catalog.phones.normalise",
              "cases.duplicates.possible_duplicates", "cases.lookup.lookup"),
    "6.1.2": ("cases.workflow.intake", "cases.duplicates.possible_duplicates", "cases.steps.unknown.resolve_unknown"),
    "6.1.3": ("policy.HANDOVER", "calendar.time_limits.handover_deadline", "cases.steps.intake.hand_over_at_recording",
              "cases.migrations.handed_over_at_recording", "jobs.overdue.run_overdue"),
    "6.1.4": ("policy.FINE_HANDOVER_LATE", "cases.steps.intake.hand_over_at_recording",
              "cases.migrations.handed_over_at_recording", "fines.proposals.propose_missed",
              "jobs.overdue.run_overdue", "cases.steps.fine_decisions.rule_fine", "cases.steps.corrections.reassess_handover"),
    "6.1.5": ("policy.FINE_RECORD_UNCLEAR", "fines.proposals.add_manual", "cases.steps.fine_decisions.propose_fine"),
    "6.2.1": ("policy.CONSULT_REPLY", "calendar.time_limits.consult_reply_deadline", "cases.steps.intake.assign_reply",
              "cases.steps.intake.reply"),
    "6.2.2": ("policy.DECISION", "calendar.time_limits.decision_deadline", "cases.steps.decision.decide",
              "cases.steps.intake.hand_over_at_recording", "cases.steps.unknown.resolve_unknown"),
    "6.2.3": ("cases.steps.decision.guidance_result",),
    "6.2.4": ("cases.steps.quote.customer_response", "cases.steps.quote.vp_decision"),
    "6.2.5": ("cases.steps.onsite.dispatch", "cases.numbers.next_number", "service_forms.document.render_case_form",
              "cases.deadlines.departure_label", "cases.queries.open_cases_by_technician",
              "materials.stock.issue_tx", "materials.stock.issue_lines_tx",
              # 技术通报 (issue 18, no clause of its own): its campaign's cases start here, at dispatch
              "cases.from_notice.create_for_products", "technical_notices.campaign.run"),
    "6.2.6": ("policy.FINE_RETURN_UNAPPROVED", "cases.steps.onsite.complete", "cases.steps.onsite.approve_return",
              "cases.steps.onsite.record_return", "service_forms.archive.archive_form",
              "service_forms.uploads.match_form_no",
              "cases.onsite_record.path_of", "service_forms.consistency.time_problem"),
    "6.2.7": ("policy.REPORT", "calendar.time_limits.report_deadline", "cases.steps.report.report",
              "cases.steps.handin.missing", "cases.steps.handin.hand_in", "cases.steps.handin.receive_tx",
              "materials.stock.consume_tx", "materials.stock.return_tx"),
    "6.2.8": ("policy.CONFIRM", "policy.FINE_CONFIRM_LATE_PER_DAY", "calendar.time_limits.confirm_deadline",
              "cases.steps.report.confirm", "fines.proposals.confirm_late_proposal", "fines.rulings.gm_rule",
              "fines.rulings.refer", "cases.steps.fine_decisions.refer_fine",
              "cases.steps.fine_decisions.gm_rule_fine", "jobs.overdue.run_overdue"),
    "6.2.9": ("policy.FINE_FALSIFIED_FORM", "fines.proposals.add_manual", "cases.steps.fine_decisions.propose_fine",
              "cases.onsite_record.differences_with_reason", "cases.onsite_record.report_differences"),
    "7.1": ("policy.CONDUCT_PLAN", "cases.conduct.checklist"),
    "7.2": ("policy.CONDUCT_INSPECTION", "cases.conduct.checklist"),
    "7.3": ("policy.CONDUCT_CONTACT", "cases.conduct.checklist", "cases.steps.report.confirm"),
    "7.4": ("policy.ENTERTAINMENT", "cases.conduct.prior_approval", "cases.expenses.audit_lines",
            "cases.steps.report.report", "cases.steps.conduct.request_approval", "cases.steps.conduct.decide_approval"),
    "8.1": ("policy.FOLLOW_UP", "followups.tasks.plan_tasks", "followups.calls.record_call",
            "jobs.followup_calls.run_followups", "followups.tasks.partners", "followups.calls.record_attempt",
            "technical_notices.deliveries.make_followups"),  # 技术通报 not acknowledged in time (issue 18)
    "8.2": ("policy.ANNUAL_VISIT", "followups.tasks.eligible_customers", "followups.calls.clean_call",
            "jobs.followup_calls.run_followups"),
    "9.1": ("reports.figures.technician_figures", "reports.assessments.send", "reports.assessments.may_edit",
            "reports.documents.assessment_pdf"),
    "9.2": ("reports.quarterly.create_draft", "reports.quarterly.draft_task", "reports.quarterly.issue",
            "reports.quarterly.correct", "reports.quarterly_sections.case_counts", "reports.quarterly_documents"),
    "9.3": ("cases.classification.classify", "cases.classification.finalize", "reports.preventive.raise_tx",
            "reports.preventive.report_sections", "reports.statistics.compute", "reports.statistics.report_sections",
            "reports.charts.pareto_svg", "reports.statistics.failure_rates", "reports.statistics.on_time"),
    "9.4": ("reports.failure_costs.quarter_costs", "reports.failure_costs.report_sections",
            "reports.case_costs.case_cost", "reports.failure_entries.add_entry", "reports.failure_entries.set_output_value"),
    "9.5": ("reports.figures.manager_figures", "reports.assessments.send", "reports.assessments.may_edit",
            "reports.documents.month_workbook"),
    "10": ("service_forms.archive", "archive.dossier.render", "archive.yearly.write_archive",
           "archive.verify.verify_archive"),
    "附": ("service_forms.fields", "service_forms.document", "service_forms.document.form_context"),
}

# Transitions of records.cases.flow that implement no clause (housekeeping: correct, cancel, note).
NONE: tuple[str, ...] = ("correct", "cancel", "merge", "restore", "state_fine")
