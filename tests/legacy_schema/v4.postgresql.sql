-- The schema the hand-written steps made (schema_version 4): what diagnostics/db.py at commit c0b4224
-- emitted through Base.metadata.create_all on postgresql. Frozen: tests/test_migrations.py builds "old"
-- databases from it. Never edit.
CREATE TABLE schema_version (
    id SERIAL NOT NULL,
    version INTEGER NOT NULL,
    description VARCHAR(200) NOT NULL,
    applied_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE diag_sessions (
    id SERIAL NOT NULL,
    reference VARCHAR(16) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    broker_id VARCHAR(32) NOT NULL,
    supplier_id VARCHAR(255),
    request_id VARCHAR(128),
    scenario VARCHAR(64),
    state VARCHAR(16) NOT NULL,
    verdict JSON,
    diagnosis_id VARCHAR(64),
    no_response_answer VARCHAR(64),
    finished_at TIMESTAMP WITH TIME ZONE,
    claimed_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (id),
    UNIQUE (reference),
    UNIQUE (request_id)
);
CREATE INDEX ix_diag_sessions_state_created ON diag_sessions (state, created_at);
CREATE INDEX ix_diag_sessions_created_at ON diag_sessions (created_at);
CREATE TABLE seen_assertions (
    assertion_id VARCHAR(255) NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (assertion_id)
);
CREATE INDEX ix_seen_assertions_expires_at ON seen_assertions (expires_at);
CREATE TABLE sim_artifacts (
    handle VARCHAR(128) NOT NULL,
    payload BYTEA NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (handle)
);
CREATE TABLE broker_metadata (
    id SERIAL NOT NULL,
    broker_id VARCHAR(32) NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    xml_sha256 VARCHAR(64) NOT NULL,
    entity_id VARCHAR(1024) NOT NULL,
    signing_certs JSON NOT NULL,
    endpoints JSON NOT NULL,
    valid_until TIMESTAMP WITH TIME ZONE,
    signature_verified BOOLEAN NOT NULL,
    changes JSON NOT NULL,
    error VARCHAR(500),
    PRIMARY KEY (id)
);
CREATE INDEX ix_broker_metadata_broker_id ON broker_metadata (broker_id);
CREATE TABLE servicedesk_user (
    id SERIAL NOT NULL,
    name VARCHAR(64) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (name)
);
CREATE TABLE servicedesk_login_attempt (
    id SERIAL NOT NULL,
    name VARCHAR(64) NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    success BOOLEAN NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX ix_servicedesk_login_attempt_at ON servicedesk_login_attempt (at);
CREATE INDEX ix_servicedesk_login_attempt_name ON servicedesk_login_attempt (name);
CREATE TABLE servicedesk_audit (
    id SERIAL NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    "user" VARCHAR(64) NOT NULL,
    action VARCHAR(32) NOT NULL,
    reference VARCHAR(16),
    PRIMARY KEY (id)
);
CREATE INDEX ix_servicedesk_audit_at ON servicedesk_audit (at);
CREATE TABLE page_feedback (
    id SERIAL NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    page VARCHAR(255) NOT NULL,
    rating INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX ix_page_feedback_at ON page_feedback (at);
CREATE INDEX ix_page_feedback_page ON page_feedback (page);
CREATE TABLE servicedesk_session (
    nonce VARCHAR(64) NOT NULL,
    "user" VARCHAR(64) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    ended_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (nonce)
);
CREATE INDEX ix_servicedesk_session_created_at ON servicedesk_session (created_at);
CREATE TABLE rate_limit_hits (
    bucket VARCHAR(128) NOT NULL,
    count INTEGER NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (bucket)
);
CREATE INDEX ix_rate_limit_hits_expires_at ON rate_limit_hits (expires_at);
