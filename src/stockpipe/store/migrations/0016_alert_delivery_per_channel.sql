-- Alerts: which channel took which transition (the opening or the recovery of an incident).
-- Before this table an incident was marked notified as soon as one channel took it, so a Slack
-- webhook that was down in the tick when the e-mail went out never got that alert. Now each
-- channel gets every transition it lacks at the next tick it is reachable again; the
-- incident's *_notified_at is set once every configured channel has it (or after the give-up
-- window, stockpipe.alerts.service.GIVE_UP_AFTER). Rows go with their incident.
CREATE TABLE alert_delivery (
    incident_id  BIGINT      NOT NULL REFERENCES alert_incident (id) ON DELETE CASCADE,
    transition   TEXT        NOT NULL CHECK (transition IN ('open', 'close')),
    channel      TEXT        NOT NULL,  -- the channel's name: "slack webhook", "email to ... via host:port (starttls)"
    delivered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, transition, channel)
);

-- alert_run_seen only guards against a tick that counted runs and failed before its cursor was
-- stored; rows older than a week are pruned (stockpipe.alerts.incidents.RUN_SEEN_RETENTION).
CREATE INDEX alert_run_seen_by_time ON alert_run_seen (seen_at);
