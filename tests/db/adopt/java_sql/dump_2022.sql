CREATE TABLE visa.configuration (
    id bigint NOT NULL,
    key character varying(256) NOT NULL,
    value character varying(8192) NOT NULL
);
CREATE SEQUENCE visa.configuration_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.configuration_id_seq OWNED BY visa.configuration.id;

CREATE TABLE visa.employer (
    id bigint NOT NULL,
    country_code character varying(10),
    name character varying(200),
    town character varying(100)
);

CREATE TABLE visa.experiment (
    id character varying(32) NOT NULL,
    instrument_id bigint NOT NULL,
    proposal_id bigint NOT NULL,
    start_date timestamp without time zone,
    end_date timestamp without time zone
);

CREATE TABLE visa.experiment_user (
    experiment_id character varying(32) NOT NULL,
    user_id character varying(250) NOT NULL
);

CREATE SEQUENCE visa.flavour_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.flavour (
    id bigint DEFAULT nextval('visa.flavour_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    compute_id character varying(250) NOT NULL,
    cpu real NOT NULL,
    memory integer NOT NULL,
    name character varying(250) NOT NULL,
    deleted boolean DEFAULT false NOT NULL
);

CREATE SEQUENCE visa.flavour_limit_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.flavour_limit (
    id bigint DEFAULT nextval('visa.flavour_limit_id_seq'::regclass) NOT NULL,
    object_id bigint NOT NULL,
    object_type character varying(255) NOT NULL,
    flavour_id bigint NOT NULL
);

CREATE SEQUENCE visa.image_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.image (
    id bigint DEFAULT nextval('visa.image_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    compute_id character varying(250) NOT NULL,
    description character varying(2500),
    icon character varying(100) NOT NULL,
    name character varying(250) NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    visible boolean DEFAULT false NOT NULL,
    version character varying(100),
    boot_command text,
    autologin character varying
);

CREATE TABLE visa.image_protocol (
    image_id bigint NOT NULL,
    protocol_id bigint NOT NULL
);

CREATE SEQUENCE visa.instance_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.instance (
    id bigint DEFAULT nextval('visa.instance_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    comments character varying(2500),
    compute_id character varying(250),
    name character varying(250) NOT NULL,
    screen_height integer NOT NULL,
    screen_width integer NOT NULL,
    state character varying(50) NOT NULL,
    last_seen_at timestamp without time zone,
    termination_date timestamp without time zone,
    plan_id bigint,
    username character varying(100),
    delete_requested boolean DEFAULT false NOT NULL,
    last_interaction_at timestamp without time zone,
    ip_address character varying(255),
    keyboard_layout character varying(100) DEFAULT 'en-gb-qwerty'::character varying NOT NULL,
    deleted_at timestamp without time zone,
    security_groups text
);

CREATE SEQUENCE visa.instance_attribute_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.instance_attribute (
    id bigint DEFAULT nextval('visa.instance_attribute_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    name character varying(255) NOT NULL,
    value character varying(255) NOT NULL,
    instance_id bigint NOT NULL
);

CREATE SEQUENCE visa.instance_authentication_token_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.instance_authentication_token (
    id bigint DEFAULT nextval('visa.instance_authentication_token_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    token character varying(250) NOT NULL,
    instance_id bigint NOT NULL,
    user_id character varying(250) NOT NULL
);

CREATE SEQUENCE visa.instance_command_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.instance_command (
    id bigint DEFAULT nextval('visa.instance_command_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    action_type character varying(50) NOT NULL,
    message character varying(255),
    state character varying(50) NOT NULL,
    instance_id bigint NOT NULL,
    user_id character varying(250)
);

CREATE TABLE visa.instance_experiment (
    experiment_id character varying(32) NOT NULL,
    instance_id bigint NOT NULL
);

CREATE TABLE visa.instance_expiration (
    id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    expiration_date timestamp without time zone NOT NULL,
    instance_id bigint NOT NULL
);
CREATE SEQUENCE visa.instance_expiration_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.instance_expiration_id_seq OWNED BY visa.instance_expiration.id;

CREATE TABLE visa.instance_jupyter_session (
    id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    active boolean NOT NULL,
    kernel_id character varying(150) NOT NULL,
    session_id character varying(150) NOT NULL,
    instance_id bigint NOT NULL,
    user_id character varying(250) NOT NULL
);
CREATE SEQUENCE visa.instance_jupyter_session_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.instance_jupyter_session_id_seq OWNED BY visa.instance_jupyter_session.id;

CREATE SEQUENCE visa.instance_member_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.instance_member (
    id bigint DEFAULT nextval('visa.instance_member_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    role character varying(255) NOT NULL,
    user_id character varying(250) NOT NULL,
    instance_id bigint NOT NULL
);

CREATE SEQUENCE visa.instance_session_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.instance_session (
    id bigint DEFAULT nextval('visa.instance_session_id_seq'::regclass) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    connection_id character varying(150) NOT NULL,
    instance_id bigint NOT NULL,
    current boolean NOT NULL
);

CREATE TABLE visa.instance_session_member (
    id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    active boolean NOT NULL,
    role character varying(150) NOT NULL,
    session_id character varying(150) NOT NULL,
    instance_session_id bigint NOT NULL,
    user_id character varying(250) NOT NULL,
    last_seen_at timestamp without time zone,
    last_interaction_at timestamp without time zone
);
CREATE SEQUENCE visa.instance_session_member_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.instance_session_member_id_seq OWNED BY visa.instance_session_member.id;

CREATE TABLE visa.instance_thumbnail (
    id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    instance_id bigint NOT NULL,
    data text NOT NULL
);
CREATE SEQUENCE visa.instance_thumbnail_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.instance_thumbnail_id_seq OWNED BY visa.instance_thumbnail.id;

CREATE TABLE visa.instrument (
    id bigint NOT NULL,
    name character varying(250) NOT NULL
);

CREATE TABLE visa.instrument_scientist (
    instrument_id bigint NOT NULL,
    user_id character varying(250) NOT NULL
);

CREATE TABLE visa.plan (
    id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    flavour_id bigint,
    image_id bigint,
    preset boolean DEFAULT false NOT NULL
);
CREATE SEQUENCE visa.plan_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.plan_id_seq OWNED BY visa.plan.id;

CREATE TABLE visa.proposal (
    id bigint NOT NULL,
    identifier character varying(100) NOT NULL,
    title character varying(2000),
    public_at timestamp without time zone,
    summary character varying(5000)
);

CREATE SEQUENCE visa.protocol_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.protocol (
    id bigint DEFAULT nextval('visa.protocol_id_seq'::regclass) NOT NULL,
    name character varying(100) NOT NULL,
    port integer NOT NULL
);

CREATE SEQUENCE visa.role_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE visa.role (
    id bigint DEFAULT nextval('visa.role_id_seq'::regclass) NOT NULL,
    description character varying(250),
    name character varying(100) NOT NULL
);

CREATE TABLE visa.schema_migrations (
    version character varying(255) NOT NULL
);

CREATE TABLE visa.security_group (
    id bigint NOT NULL,
    name character varying(250) NOT NULL
);
CREATE SEQUENCE visa.security_group_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.security_group_id_seq OWNED BY visa.security_group.id;

CREATE TABLE visa.security_group_filter (
    id bigint NOT NULL,
    object_id bigint NOT NULL,
    object_type character varying(255) NOT NULL,
    security_group_id bigint NOT NULL
);
CREATE SEQUENCE visa.security_group_filter_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.security_group_filter_id_seq OWNED BY visa.security_group_filter.id;

CREATE TABLE visa.system_notification (
    id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    level character varying(50) NOT NULL,
    message character varying(4096) NOT NULL,
    deleted_at timestamp without time zone
);
CREATE SEQUENCE visa.system_notification_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE visa.system_notification_id_seq OWNED BY visa.system_notification.id;

CREATE TABLE visa.user_role (
    user_id character varying(250) NOT NULL,
    role_id bigint NOT NULL
);

CREATE TABLE visa.users (
    id character varying(250) NOT NULL,
    affiliation character varying(255),
    email character varying(100),
    first_name character varying(100),
    last_name character varying(100) NOT NULL,
    last_seen_at timestamp without time zone,
    instance_quota integer DEFAULT 2 NOT NULL,
    affiliation_id bigint,
    activated_at timestamp without time zone
);

ALTER TABLE ONLY visa.configuration ALTER COLUMN id SET DEFAULT nextval('visa.configuration_id_seq'::regclass);
ALTER TABLE ONLY visa.instance_expiration ALTER COLUMN id SET DEFAULT nextval('visa.instance_expiration_id_seq'::regclass);
ALTER TABLE ONLY visa.instance_jupyter_session ALTER COLUMN id SET DEFAULT nextval('visa.instance_jupyter_session_id_seq'::regclass);
ALTER TABLE ONLY visa.instance_session_member ALTER COLUMN id SET DEFAULT nextval('visa.instance_session_member_id_seq'::regclass);
ALTER TABLE ONLY visa.instance_thumbnail ALTER COLUMN id SET DEFAULT nextval('visa.instance_thumbnail_id_seq'::regclass);
ALTER TABLE ONLY visa.plan ALTER COLUMN id SET DEFAULT nextval('visa.plan_id_seq'::regclass);
ALTER TABLE ONLY visa.security_group ALTER COLUMN id SET DEFAULT nextval('visa.security_group_id_seq'::regclass);
ALTER TABLE ONLY visa.security_group_filter ALTER COLUMN id SET DEFAULT nextval('visa.security_group_filter_id_seq'::regclass);
ALTER TABLE ONLY visa.system_notification ALTER COLUMN id SET DEFAULT nextval('visa.system_notification_id_seq'::regclass);

ALTER TABLE ONLY visa.configuration ADD CONSTRAINT configuration_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.employer ADD CONSTRAINT employer_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.experiment ADD CONSTRAINT experiment_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.experiment_user ADD CONSTRAINT experiment_user_pkey PRIMARY KEY (experiment_id, user_id);
ALTER TABLE ONLY visa.flavour_limit ADD CONSTRAINT flavour_limit_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.flavour ADD CONSTRAINT flavour_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.image ADD CONSTRAINT image_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_attribute ADD CONSTRAINT instance_attribute_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_authentication_token ADD CONSTRAINT instance_authentication_token_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_command ADD CONSTRAINT instance_command_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_experiment ADD CONSTRAINT instance_experiment_pkey PRIMARY KEY (experiment_id, instance_id);
ALTER TABLE ONLY visa.instance_expiration ADD CONSTRAINT instance_expiration_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_jupyter_session ADD CONSTRAINT instance_jupyter_session_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_member ADD CONSTRAINT instance_member_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance ADD CONSTRAINT instance_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_session_member ADD CONSTRAINT instance_session_member_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_session ADD CONSTRAINT instance_session_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_thumbnail ADD CONSTRAINT instance_thumbnail_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instrument ADD CONSTRAINT instrument_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instrument_scientist ADD CONSTRAINT instrument_responsible_pkey PRIMARY KEY (instrument_id, user_id);
ALTER TABLE ONLY visa.plan ADD CONSTRAINT plan_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.proposal ADD CONSTRAINT proposal_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.protocol ADD CONSTRAINT protocol_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.role ADD CONSTRAINT role_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.schema_migrations ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);
ALTER TABLE ONLY visa.security_group_filter ADD CONSTRAINT security_group_filter_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.security_group ADD CONSTRAINT security_group_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.system_notification ADD CONSTRAINT system_notification_pkey PRIMARY KEY (id);
ALTER TABLE ONLY visa.instance_expiration ADD CONSTRAINT uk_instance_expiration_instance_id UNIQUE (instance_id);
ALTER TABLE ONLY visa.instance_thumbnail ADD CONSTRAINT uk_instance_thumbnail_instance_id UNIQUE (instance_id);
ALTER TABLE ONLY visa.role ADD CONSTRAINT uk_role_name UNIQUE (name);
ALTER TABLE ONLY visa.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY visa.users ADD CONSTRAINT fk_employer_id FOREIGN KEY (affiliation_id) REFERENCES visa.employer(id);
ALTER TABLE ONLY visa.experiment_user ADD CONSTRAINT fk_experiment_id FOREIGN KEY (experiment_id) REFERENCES visa.experiment(id);
ALTER TABLE ONLY visa.instance_experiment ADD CONSTRAINT fk_experiment_id FOREIGN KEY (experiment_id) REFERENCES visa.experiment(id);
ALTER TABLE ONLY visa.flavour_limit ADD CONSTRAINT fk_flavour_id FOREIGN KEY (flavour_id) REFERENCES visa.flavour(id);
ALTER TABLE ONLY visa.plan ADD CONSTRAINT fk_flavour_id FOREIGN KEY (flavour_id) REFERENCES visa.flavour(id);
ALTER TABLE ONLY visa.plan ADD CONSTRAINT fk_image_id FOREIGN KEY (image_id) REFERENCES visa.image(id);
ALTER TABLE ONLY visa.image_protocol ADD CONSTRAINT fk_image_id FOREIGN KEY (image_id) REFERENCES visa.image(id);
ALTER TABLE ONLY visa.instance_command ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_expiration ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_thumbnail ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_experiment ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_member ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_authentication_token ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_session ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_jupyter_session ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_attribute ADD CONSTRAINT fk_instance_id FOREIGN KEY (instance_id) REFERENCES visa.instance(id);
ALTER TABLE ONLY visa.instance_session_member ADD CONSTRAINT fk_instance_session_id FOREIGN KEY (instance_session_id) REFERENCES visa.instance_session(id);
ALTER TABLE ONLY visa.instrument_scientist ADD CONSTRAINT fk_instrument_id FOREIGN KEY (instrument_id) REFERENCES visa.instrument(id);
ALTER TABLE ONLY visa.experiment ADD CONSTRAINT fk_instrument_id FOREIGN KEY (instrument_id) REFERENCES visa.instrument(id);
ALTER TABLE ONLY visa.instance ADD CONSTRAINT fk_plan_id FOREIGN KEY (plan_id) REFERENCES visa.plan(id);
ALTER TABLE ONLY visa.experiment ADD CONSTRAINT fk_proposal_id FOREIGN KEY (proposal_id) REFERENCES visa.proposal(id);
ALTER TABLE ONLY visa.image_protocol ADD CONSTRAINT fk_protocol_id FOREIGN KEY (protocol_id) REFERENCES visa.protocol(id);
ALTER TABLE ONLY visa.user_role ADD CONSTRAINT fk_role_id FOREIGN KEY (role_id) REFERENCES visa.role(id);
ALTER TABLE ONLY visa.security_group_filter ADD CONSTRAINT fk_security_group_id FOREIGN KEY (security_group_id) REFERENCES visa.security_group(id);
ALTER TABLE ONLY visa.experiment_user ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);
ALTER TABLE ONLY visa.instance_authentication_token ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);
ALTER TABLE ONLY visa.instance_command ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);
ALTER TABLE ONLY visa.instance_jupyter_session ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);
ALTER TABLE ONLY visa.instance_member ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);
ALTER TABLE ONLY visa.instance_session_member ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);
ALTER TABLE ONLY visa.instrument_scientist ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);
ALTER TABLE ONLY visa.user_role ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES visa.users(id);

-- dbmate 20220314151039: the instance uid
ALTER TABLE visa.instance ADD COLUMN IF NOT EXISTS uid character varying(16);
UPDATE visa.instance SET uid = id WHERE uid IS NULL;
ALTER TABLE visa.instance ALTER COLUMN uid SET NOT NULL;
-- dbmate 20220324082055: system notifications are activated
ALTER TABLE visa.system_notification ADD COLUMN activated_at timestamp without time zone;
-- dbmate 20220406071949 added the GUEST role (a row, see ROWS_2022)

INSERT INTO visa.schema_migrations (version) VALUES
    ('20220314151039'), ('20220324082055'), ('20220406071949');
