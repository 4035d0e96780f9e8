"""Reports: scheduled e-mail reports (list, create, pause, delete, send now, last run) and alerts. Every call
needs an admin token; names, filters and errors from the API are shown as plain text (tables, code), never as
markup."""

from typing import Any

import streamlit as st

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.layout import page_header
from salesdash.dashboard.components.token import need_token, session_token

ctx = context.current()
page_header(
    ctx, "Reports", "Scheduled e-mail reports and alerts, sent by the API's scheduler.", filtered=False
)
if not need_token("to see and manage scheduled reports and alerts"):
    st.stop()
token = session_token()


def refused(what: str, err: ApiError) -> None:
    st.error(f"{what} failed.", icon=":material/error:")
    st.code(err.message + ("\n" + err.hint if err.hint else ""), language=None, wrap_lines=True)


def call(what: str, action: Any) -> Any:
    """Run one API write; on success rerun the page so the lists show the change."""
    try:
        result = action()
    except ApiError as err:
        refused(what, err)
        return None
    st.session_state["reports_notice"] = what
    st.rerun()
    return result


try:
    schedules = ctx.client.get("/api/reports", token=token)
    rules = ctx.client.get("/api/alerts", token=token)
    history = ctx.client.get("/api/alerts/history", token=token)
except ApiError as err:
    refused("Reading the reports", err)
    st.stop()

notice = st.session_state.pop("reports_notice", None)
if notice:
    st.success(f"{notice}: done.", icon=":material/check_circle:")


def when(value: Any) -> str:
    return str(value).replace("T", " ").removesuffix("Z") + " UTC" if value else "–"


def filters_text(filters: Any) -> str:
    if not isinstance(filters, dict) or not filters:
        return "none"
    return "; ".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in filters.items())


with st.container(border=True):
    st.subheader("Scheduled reports", anchor=False)
    items: list[dict[str, Any]] = schedules.data if isinstance(schedules.data, list) else []
    if items:
        st.dataframe(
            [
                {
                    "id": s["id"],
                    "name": s["name"],
                    "view": s["view"],
                    "formats": ", ".join(s["formats"]),
                    "filters": filters_text(s["filters"]),
                    "timing": f"{s['cron']} ({s['timezone']})",
                    "recipients": ", ".join(s["recipients"]),
                    "state": "paused" if s["paused"] else "active",
                    "next run": "–" if s["paused"] else when(s["next_run_at"]),
                    "last run": (s.get("last_run") or {}).get("status", "never"),
                    "last run at": when((s.get("last_run") or {}).get("due_at")),
                    "attempts": (s.get("last_run") or {}).get("attempts"),
                    "last error": (s.get("last_run") or {}).get("error") or "",
                }
                for s in items
            ],
            hide_index=True,
            width="stretch",
            key="report-schedules",
        )
        by_id = {s["id"]: s for s in items}
        cols = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
        chosen = cols[0].selectbox("Report", list(by_id), format_func=lambda i: f"#{i}", key="report_pick")
        picked = by_id[chosen]
        if cols[1].button("Send now", icon=":material/send:", key="report_send"):
            with st.spinner("Building and sending the report…"):
                call(
                    "Sending the report",
                    lambda: ctx.client.post(f"/api/reports/{chosen}/send", token=token, timeout=300.0),
                )
        verb = "resume" if picked["paused"] else "pause"
        if cols[2].button(verb.capitalize(), key="report_pause"):
            call(
                f"{verb.capitalize()} the report",
                lambda: ctx.client.post(f"/api/reports/{chosen}/{verb}", token=token),
            )
        if cols[3].button("Delete", icon=":material/delete:", key="report_delete"):
            call("Deleting the report", lambda: ctx.client.delete(f"/api/reports/{chosen}", token=token))
    else:
        st.caption("No scheduled reports yet.")

    with st.expander("Schedule a report", expanded=not items), st.form("report-form", border=False):
        name = st.text_input("Name", key="report_name", placeholder="Weekly France")
        view = st.selectbox(
            "What",
            schedules.meta.get("views") or ["kpis"],
            key="report_view",
            help="kpis = the full PDF report",
        )
        formats = st.multiselect(
            "Formats", schedules.meta.get("formats") or ["pdf"], default=["pdf"], key="report_formats"
        )
        cron = st.text_input(
            "When (cron: minute hour day month weekday)", value="0 8 * * mon", key="report_cron"
        )
        tz = st.text_input("Time zone", value="Europe/Paris", key="report_timezone")
        to = st.text_input("Recipients (comma-separated)", key="report_to", placeholder="sales@example.com")
        st.caption("The report uses the filters set in the sidebar now:")
        st.code(filters_text(ctx.query()), language=None)
        if st.form_submit_button("Schedule", type="primary", icon=":material/schedule_send:"):
            body = {
                "name": name,
                "view": view,
                "formats": formats,
                "cron": cron,
                "timezone": tz,
                "recipients": [a.strip() for a in to.split(",") if a.strip()],
                "filters": ctx.query(),
            }
            call("Scheduling the report", lambda: ctx.client.post("/api/reports", token=token, json=body))

with st.container(border=True):
    st.subheader("Alerts", anchor=False)
    alert_items: list[dict[str, Any]] = rules.data if isinstance(rules.data, list) else []
    if alert_items:
        st.dataframe(
            [
                {
                    "id": a["id"],
                    "name": a["name"],
                    "rule": f"{a['kind']} {a['threshold']:g}" if a["kind"] != "no_orders" else "no orders",
                    "metric": a["metric"],
                    "period": a["period"],
                    "filters": filters_text(a["filters"]),
                    "notify": ", ".join(a["recipients"] + (["webhook"] if a.get("webhook_url") else [])),
                    "state": "paused" if a["paused"] else ("FIRING" if a["firing"] else "ok"),
                    "last value": a.get("last_value"),
                    "last check": when(a.get("last_checked_at")),
                }
                for a in alert_items
            ],
            hide_index=True,
            width="stretch",
            key="alert-rules",
        )
        by_rule = {a["id"]: a for a in alert_items}
        cols = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
        rule_id = cols[0].selectbox("Alert", list(by_rule), format_func=lambda i: f"#{i}", key="alert_pick")
        if cols[1].button("Check now", key="alert_check"):
            call("Checking the alerts", lambda: ctx.client.post("/api/alerts/check", token=token))
        alert_verb = "resume" if by_rule[rule_id]["paused"] else "pause"
        if cols[2].button(alert_verb.capitalize(), key="alert_pause"):
            call(
                f"{alert_verb.capitalize()} the alert",
                lambda: ctx.client.post(f"/api/alerts/{rule_id}/{alert_verb}", token=token),
            )
        if cols[3].button("Delete", icon=":material/delete:", key="alert_delete"):
            call("Deleting the alert", lambda: ctx.client.delete(f"/api/alerts/{rule_id}", token=token))
    else:
        st.caption("No alerts yet.")

    with st.expander("Create an alert", expanded=not alert_items), st.form("alert-form", border=False):
        alert_name = st.text_input("Name", key="alert_name", placeholder="France weekly revenue")
        kind = st.selectbox("Condition", rules.meta.get("kinds") or ["below"], key="alert_kind")
        metric = st.selectbox("KPI", rules.meta.get("metrics") or ["revenue"], key="alert_metric")
        period = st.selectbox("Period", rules.meta.get("periods") or ["last_24h"], key="alert_period")
        threshold = st.number_input(
            "Threshold (below: in the KPI's unit; drop: percent)", value=0.0, key="alert_threshold"
        )
        alert_to = st.text_input("E-mail to (comma-separated)", key="alert_to")
        webhook = st.text_input("Webhook URL (optional, JSON POST)", key="alert_webhook")
        st.caption("The alert uses the sidebar's filters except the dates (the period sets them):")
        alert_filters = {k: v for k, v in ctx.query().items() if k not in ("start", "end")}
        st.code(filters_text(alert_filters), language=None)
        if st.form_submit_button("Create alert", type="primary", icon=":material/notifications:"):
            alert_body: dict[str, Any] = {
                "name": alert_name,
                "kind": kind,
                "metric": metric,
                "period": period,
                "threshold": threshold,
                "filters": alert_filters,
                "recipients": [a.strip() for a in alert_to.split(",") if a.strip()],
            }
            if webhook.strip():
                alert_body["webhook_url"] = webhook.strip()
            call("Creating the alert", lambda: ctx.client.post("/api/alerts", token=token, json=alert_body))

    events = history.data if isinstance(history.data, list) else []
    st.markdown("##### History of firings")
    if events:
        st.dataframe(
            [
                {
                    "when": when(e["occurred_at"]),
                    "alert": e["rule_id"],
                    "event": e["event"],
                    "value": e["value"],
                    "message": e["message"],
                    "trigger": e["trigger"],
                    "delivered": "; ".join(f"{k}: {v}" for k, v in (e.get("delivery") or {}).items()),
                }
                for e in events
            ],
            hide_index=True,
            width="stretch",
            key="alert-history",
        )
    else:
        st.caption("No alert has fired yet.")
