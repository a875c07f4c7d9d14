-- VISA platform database schema for PostgreSQL, generated from the models.
-- Do not edit: regenerate with `visa db schema-sql -o db/schema.sql`.
-- Apply to an empty database with `psql -f db/schema.sql`; servers use migrations.

CREATE SCHEMA IF NOT EXISTS visa;
SET search_path TO visa;

CREATE TABLE application_credential (
	id BIGSERIAL NOT NULL,
	name VARCHAR(250) NOT NULL,
	application_id VARCHAR(255) NOT NULL,
	application_secret VARCHAR(255) NOT NULL,
	salt VARCHAR(255) NOT NULL,
	last_used_at TIMESTAMP WITH TIME ZONE,
	deleted_at TIMESTAMP WITH TIME ZONE,
	CONSTRAINT application_credential_pkey PRIMARY KEY (id)
);

CREATE TABLE cloud_provider_configuration (
	id BIGSERIAL NOT NULL,
	type VARCHAR(100) NOT NULL,
	name VARCHAR(100),
	server_name_prefix VARCHAR(100) NOT NULL,
	visible BOOLEAN NOT NULL,
	deleted_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT cloud_provider_configuration_pkey PRIMARY KEY (id)
);

CREATE TABLE configuration (
	id BIGSERIAL NOT NULL,
	key VARCHAR(256) NOT NULL,
	value VARCHAR(8192) NOT NULL,
	CONSTRAINT configuration_pkey PRIMARY KEY (id)
);

CREATE TABLE employer (
	id BIGINT NOT NULL,
	name VARCHAR(200),
	town VARCHAR(100),
	country_code VARCHAR(10),
	CONSTRAINT employer_pkey PRIMARY KEY (id)
);

CREATE TABLE instrument (
	id BIGINT NOT NULL,
	name VARCHAR(250) NOT NULL,
	CONSTRAINT instrument_pkey PRIMARY KEY (id)
);

CREATE TABLE notification_outbox (
	id BIGSERIAL NOT NULL,
	notification_id VARCHAR(64) NOT NULL,
	channel VARCHAR(100) NOT NULL,
	kind VARCHAR(100) NOT NULL,
	payload TEXT NOT NULL,
	state VARCHAR(20) NOT NULL,
	attempts INTEGER DEFAULT 0 NOT NULL,
	next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL,
	claimed_until TIMESTAMP WITH TIME ZONE,
	last_error VARCHAR(1000),
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT notification_outbox_pkey PRIMARY KEY (id),
	CONSTRAINT uk_notification_outbox_delivery UNIQUE (notification_id, channel)
);

CREATE INDEX ix_notification_outbox_state ON notification_outbox (state);

CREATE TABLE proposal (
	id BIGINT NOT NULL,
	identifier VARCHAR(100) NOT NULL,
	title VARCHAR(2000),
	public_at TIMESTAMP WITH TIME ZONE,
	summary VARCHAR(5000),
	url VARCHAR(2000),
	doi VARCHAR(2000),
	CONSTRAINT proposal_pkey PRIMARY KEY (id)
);

CREATE TABLE protocol (
	id BIGSERIAL NOT NULL,
	name VARCHAR(100) NOT NULL,
	port INTEGER NOT NULL,
	CONSTRAINT protocol_pkey PRIMARY KEY (id)
);

CREATE TABLE role (
	id BIGSERIAL NOT NULL,
	name VARCHAR(100) NOT NULL,
	description VARCHAR(250),
	group_created_at TIMESTAMP WITH TIME ZONE,
	group_deleted_at TIMESTAMP WITH TIME ZONE,
	CONSTRAINT role_pkey PRIMARY KEY (id),
	CONSTRAINT uk_role_name UNIQUE (name)
);

CREATE TABLE scheduler_lease (
	name VARCHAR(100) NOT NULL,
	holder VARCHAR(255) NOT NULL,
	acquired_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT scheduler_lease_pkey PRIMARY KEY (name)
);

CREATE TABLE system_notification (
	id BIGSERIAL NOT NULL,
	message VARCHAR(4096) NOT NULL,
	level VARCHAR(50) NOT NULL,
	type VARCHAR(50),
	activated_at TIMESTAMP WITH TIME ZONE,
	deleted_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT system_notification_pkey PRIMARY KEY (id),
	CONSTRAINT system_notification_level_check CHECK (level IN ('INFO', 'WARN', 'ERROR')),
	CONSTRAINT system_notification_type_check CHECK (type IN ('BANNER', 'MODAL'))
);

CREATE TABLE booking_configuration (
	id BIGSERIAL NOT NULL,
	enabled BOOLEAN NOT NULL,
	max_instances_per_reservation BIGINT,
	max_days_reservation BIGINT,
	cloud_provider_configuration_id BIGINT,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT booking_configuration_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_configuration_cloud_provider_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id)
);

CREATE TABLE cloud_provider_configuration_parameter (
	id BIGSERIAL NOT NULL,
	key VARCHAR(256) NOT NULL,
	value VARCHAR(8192) NOT NULL,
	cloud_provider_configuration_id BIGINT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT cloud_provider_configuration_parameter_pkey PRIMARY KEY (id),
	CONSTRAINT fk_cloud_provider_configuration_parameter_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id) ON DELETE CASCADE
);

CREATE TABLE cloud_resources (
	id BIGSERIAL NOT NULL,
	vcpu_total BIGINT NOT NULL,
	vcpu_usage BIGINT NOT NULL,
	memory_mb_total BIGINT NOT NULL,
	memory_mb_usage BIGINT NOT NULL,
	instances_total BIGINT NOT NULL,
	instances_usage BIGINT NOT NULL,
	cloud_provider_configuration_id BIGINT,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT cloud_resources_pkey PRIMARY KEY (id),
	CONSTRAINT fk_cloud_resources_cloud_provider_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id)
);

CREATE TABLE device_pool (
	id BIGSERIAL NOT NULL,
	compute_identifier VARCHAR(250) NOT NULL,
	name VARCHAR(250) NOT NULL,
	description VARCHAR(1000) NOT NULL,
	resource_class VARCHAR(250),
	device_type VARCHAR(255),
	total_units INTEGER,
	deleted_at TIMESTAMP WITH TIME ZONE,
	cloud_provider_configuration_id BIGINT,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT device_pool_pkey PRIMARY KEY (id),
	CONSTRAINT device_pool_device_type_check CHECK (device_type IN ('PCI_PASSTHROUGH', 'VIRTUAL_GPU')),
	CONSTRAINT fk_device_pool_cloud_provider_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id)
);

CREATE TABLE experiment (
	id VARCHAR(32) NOT NULL,
	instrument_id BIGINT NOT NULL,
	proposal_id BIGINT NOT NULL,
	start_date TIMESTAMP WITH TIME ZONE,
	end_date TIMESTAMP WITH TIME ZONE,
	title VARCHAR(2000),
	url VARCHAR(2000),
	doi VARCHAR(2000),
	CONSTRAINT experiment_pkey PRIMARY KEY (id),
	CONSTRAINT fk_experiment_instrument_id FOREIGN KEY(instrument_id) REFERENCES instrument (id),
	CONSTRAINT fk_experiment_proposal_id FOREIGN KEY(proposal_id) REFERENCES proposal (id)
);

CREATE INDEX ix_experiment_proposal_id ON experiment (proposal_id);

CREATE TABLE flavour (
	id BIGSERIAL NOT NULL,
	name VARCHAR(250) NOT NULL,
	cpu REAL NOT NULL,
	memory INTEGER NOT NULL,
	compute_id VARCHAR(250) NOT NULL,
	deleted BOOLEAN DEFAULT false NOT NULL,
	cloud_provider_configuration_id BIGINT,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT flavour_pkey PRIMARY KEY (id),
	CONSTRAINT fk_flavour_cloud_provider_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id)
);

CREATE TABLE hypervisor (
	id BIGSERIAL NOT NULL,
	compute_id VARCHAR(250) NOT NULL,
	hostname VARCHAR(250) NOT NULL,
	state VARCHAR(255) NOT NULL,
	status VARCHAR(255) NOT NULL,
	cloud_provider_configuration_id BIGINT,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT hypervisor_pkey PRIMARY KEY (id),
	CONSTRAINT fk_hypervisor_cloud_provider_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id)
);

CREATE TABLE image (
	id BIGSERIAL NOT NULL,
	name VARCHAR(250) NOT NULL,
	version VARCHAR(100),
	description VARCHAR(2500),
	icon VARCHAR(100) NOT NULL,
	compute_id VARCHAR(250) NOT NULL,
	deleted BOOLEAN DEFAULT false NOT NULL,
	visible BOOLEAN DEFAULT false NOT NULL,
	boot_command TEXT,
	autologin VARCHAR(255),
	default_vdi_protocol BIGINT,
	secondary_vdi_protocol BIGINT,
	cloud_provider_configuration_id BIGINT,
	auto_accept_extension_request VARCHAR(50),
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT image_pkey PRIMARY KEY (id),
	CONSTRAINT fk_image_default_vdi_protocol FOREIGN KEY(default_vdi_protocol) REFERENCES protocol (id),
	CONSTRAINT fk_image_secondary_vdi_protocol FOREIGN KEY(secondary_vdi_protocol) REFERENCES protocol (id),
	CONSTRAINT fk_image_cloud_provider_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id),
	CONSTRAINT image_auto_accept_extension_request_check CHECK (auto_accept_extension_request IN ('ALL', 'STAFF', 'NONE'))
);

CREATE TABLE security_group (
	id BIGSERIAL NOT NULL,
	name VARCHAR(250) NOT NULL,
	cloud_provider_configuration_id BIGINT,
	CONSTRAINT security_group_pkey PRIMARY KEY (id),
	CONSTRAINT fk_security_group_cloud_provider_configuration_id FOREIGN KEY(cloud_provider_configuration_id) REFERENCES cloud_provider_configuration (id)
);

CREATE TABLE users (
	id VARCHAR(250) NOT NULL,
	first_name VARCHAR(100),
	last_name VARCHAR(100) NOT NULL,
	email VARCHAR(100),
	affiliation_id BIGINT,
	last_seen_at TIMESTAMP WITH TIME ZONE,
	activated_at TIMESTAMP WITH TIME ZONE,
	instance_quota INTEGER DEFAULT 2 NOT NULL,
	CONSTRAINT users_pkey PRIMARY KEY (id),
	CONSTRAINT fk_employer_id FOREIGN KEY(affiliation_id) REFERENCES employer (id)
);

CREATE TABLE acknowledged_system_notification (
	system_notification_id BIGINT NOT NULL,
	acknowledged_by_user_id VARCHAR(250) NOT NULL,
	CONSTRAINT acknowledged_system_notification_pkey PRIMARY KEY (system_notification_id, acknowledged_by_user_id),
	CONSTRAINT fk_acknowledged_system_notification_system_notification_id FOREIGN KEY(system_notification_id) REFERENCES system_notification (id),
	CONSTRAINT fk_acknowledged_system_notification_acknowledged_by_user_id FOREIGN KEY(acknowledged_by_user_id) REFERENCES users (id)
);

CREATE TABLE booking_configuration_flavour (
	booking_configuration_id BIGINT NOT NULL,
	flavour_id BIGINT NOT NULL,
	CONSTRAINT booking_configuration_flavour_pkey PRIMARY KEY (booking_configuration_id, flavour_id),
	CONSTRAINT fk_booking_configuration_flavour_booking_configuration_id FOREIGN KEY(booking_configuration_id) REFERENCES booking_configuration (id),
	CONSTRAINT fk_booking_configuration_flavour_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id)
);

CREATE TABLE booking_flavour_role_configuration (
	id BIGSERIAL NOT NULL,
	booking_configuration_id BIGINT NOT NULL,
	flavour_id BIGINT,
	role_id BIGINT,
	max_instances_per_reservation BIGINT,
	max_days_reservation BIGINT,
	CONSTRAINT booking_flavour_role_configuration_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_flavour_role_configuration_booking_configuration_id FOREIGN KEY(booking_configuration_id) REFERENCES booking_configuration (id),
	CONSTRAINT fk_booking_flavour_role_configuration_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id),
	CONSTRAINT fk_booking_flavour_role_configuration_role_id FOREIGN KEY(role_id) REFERENCES role (id)
);

CREATE TABLE booking_request (
	id BIGSERIAL NOT NULL,
	uid VARCHAR(16) NOT NULL,
	name VARCHAR(250) NOT NULL,
	start_date TIMESTAMP WITH TIME ZONE NOT NULL,
	end_date TIMESTAMP WITH TIME ZONE NOT NULL,
	owner_id VARCHAR(250) NOT NULL,
	state VARCHAR(50) NOT NULL,
	deleted_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT booking_request_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_request_owner_id FOREIGN KEY(owner_id) REFERENCES users (id),
	CONSTRAINT booking_request_state_check CHECK (state IN ('CREATED', 'ACCEPTED', 'REFUSED', 'DELETED'))
);

CREATE TABLE booking_role_configuration (
	id BIGSERIAL NOT NULL,
	booking_configuration_id BIGINT NOT NULL,
	role_id BIGINT,
	auto_accept BOOLEAN NOT NULL,
	CONSTRAINT booking_role_configuration_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_role_configuration_booking_configuration_id FOREIGN KEY(booking_configuration_id) REFERENCES booking_configuration (id),
	CONSTRAINT fk_booking_role_configuration_role_id FOREIGN KEY(role_id) REFERENCES role (id)
);

CREATE TABLE client_authentication_token (
	id BIGSERIAL NOT NULL,
	client_id VARCHAR(250) NOT NULL,
	token VARCHAR(250) NOT NULL,
	user_id VARCHAR(255) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT client_authentication_token_pkey PRIMARY KEY (id),
	CONSTRAINT fk_client_authentication_token_user_id FOREIGN KEY(user_id) REFERENCES users (id)
);

CREATE INDEX ix_client_authentication_token_token ON client_authentication_token (token);

CREATE TABLE experiment_user (
	experiment_id VARCHAR(32) NOT NULL,
	user_id VARCHAR(250) NOT NULL,
	CONSTRAINT experiment_user_pkey PRIMARY KEY (experiment_id, user_id),
	CONSTRAINT fk_experiment_user_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiment (id),
	CONSTRAINT fk_experiment_user_user_id FOREIGN KEY(user_id) REFERENCES users (id)
);

CREATE INDEX ix_experiment_user_user_id ON experiment_user (user_id);

CREATE TABLE flavour_device (
	flavour_id BIGINT NOT NULL,
	device_pool_id BIGINT NOT NULL,
	unit_count INTEGER NOT NULL,
	CONSTRAINT flavour_device_pkey PRIMARY KEY (flavour_id, device_pool_id),
	CONSTRAINT fk_flavour_device_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id),
	CONSTRAINT fk_flavour_device_device_pool_id FOREIGN KEY(device_pool_id) REFERENCES device_pool (id)
);

CREATE TABLE flavour_limit (
	id BIGSERIAL NOT NULL,
	object_id BIGINT NOT NULL,
	object_type VARCHAR(255) NOT NULL,
	flavour_id BIGINT NOT NULL,
	CONSTRAINT flavour_limit_pkey PRIMARY KEY (id),
	CONSTRAINT flavour_limit_object_type_check CHECK (object_type IN ('INSTRUMENT', 'ROLE')),
	CONSTRAINT fk_flavour_limit_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id)
);

CREATE TABLE flavour_role_lifetime (
	id BIGSERIAL NOT NULL,
	flavour_id BIGINT NOT NULL,
	role_id BIGINT,
	duration_minutes BIGINT NOT NULL,
	CONSTRAINT flavour_role_lifetime_pkey PRIMARY KEY (id),
	CONSTRAINT uk_flavour_role_lifetime_flavour_id_role_id UNIQUE (flavour_id, role_id),
	CONSTRAINT fk_flavour_role_lifetime_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id),
	CONSTRAINT fk_flavour_role_lifetime_role_id FOREIGN KEY(role_id) REFERENCES role (id)
);

CREATE TABLE hypervisor_allocation (
	id BIGSERIAL NOT NULL,
	hypervisor_id BIGINT NOT NULL,
	server_compute_id VARCHAR(250) NOT NULL,
	CONSTRAINT hypervisor_allocation_pkey PRIMARY KEY (id),
	CONSTRAINT fk_hypervisor_allocation_hypervisor_id FOREIGN KEY(hypervisor_id) REFERENCES hypervisor (id)
);

CREATE TABLE hypervisor_resource (
	id BIGSERIAL NOT NULL,
	hypervisor_id BIGINT NOT NULL,
	resource_class VARCHAR(250) NOT NULL,
	total BIGINT NOT NULL,
	usage BIGINT,
	CONSTRAINT hypervisor_resource_pkey PRIMARY KEY (id),
	CONSTRAINT fk_hypervisor_resource_hypervisor_id FOREIGN KEY(hypervisor_id) REFERENCES hypervisor (id)
);

CREATE TABLE image_protocol (
	image_id BIGINT NOT NULL,
	protocol_id BIGINT NOT NULL,
	CONSTRAINT image_protocol_pkey PRIMARY KEY (image_id, protocol_id),
	CONSTRAINT fk_image_protocol_image_id FOREIGN KEY(image_id) REFERENCES image (id),
	CONSTRAINT fk_image_protocol_protocol_id FOREIGN KEY(protocol_id) REFERENCES protocol (id)
);

CREATE TABLE instrument_scientist (
	instrument_id BIGINT NOT NULL,
	user_id VARCHAR(250) NOT NULL,
	CONSTRAINT instrument_responsible_pkey PRIMARY KEY (instrument_id, user_id),
	CONSTRAINT fk_instrument_scientist_instrument_id FOREIGN KEY(instrument_id) REFERENCES instrument (id),
	CONSTRAINT fk_instrument_scientist_user_id FOREIGN KEY(user_id) REFERENCES users (id)
);

CREATE TABLE plan (
	id BIGSERIAL NOT NULL,
	image_id BIGINT,
	flavour_id BIGINT,
	preset BOOLEAN DEFAULT false NOT NULL,
	deleted_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT plan_pkey PRIMARY KEY (id),
	CONSTRAINT fk_plan_image_id FOREIGN KEY(image_id) REFERENCES image (id),
	CONSTRAINT fk_plan_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id)
);

CREATE TABLE security_group_filter (
	id BIGSERIAL NOT NULL,
	object_id BIGINT NOT NULL,
	object_type VARCHAR(255) NOT NULL,
	security_group_id BIGINT NOT NULL,
	CONSTRAINT security_group_filter_pkey PRIMARY KEY (id),
	CONSTRAINT security_group_filter_object_type_check CHECK (object_type IN ('INSTRUMENT', 'ROLE', 'FLAVOUR')),
	CONSTRAINT fk_security_group_filter_security_group_id FOREIGN KEY(security_group_id) REFERENCES security_group (id)
);

CREATE TABLE user_role (
	user_id VARCHAR(250) NOT NULL,
	role_id BIGINT NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE,
	CONSTRAINT user_role_pkey PRIMARY KEY (user_id, role_id),
	CONSTRAINT fk_user_role_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT fk_user_role_role_id FOREIGN KEY(role_id) REFERENCES role (id)
);

CREATE INDEX ix_user_role_role_id ON user_role (role_id);

CREATE TABLE booking_request_flavour (
	id BIGSERIAL NOT NULL,
	booking_request_id BIGINT NOT NULL,
	flavour_id BIGINT NOT NULL,
	quantity BIGINT NOT NULL,
	CONSTRAINT booking_request_flavour_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_request_flavour_booking_request_id FOREIGN KEY(booking_request_id) REFERENCES booking_request (id),
	CONSTRAINT fk_booking_request_flavour_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id)
);

CREATE TABLE booking_request_history (
	id BIGSERIAL NOT NULL,
	booking_request_id BIGINT NOT NULL,
	state VARCHAR(50) NOT NULL,
	comments VARCHAR(2500),
	actor_id VARCHAR(250) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT booking_request_history_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_request_history_booking_request_id FOREIGN KEY(booking_request_id) REFERENCES booking_request (id),
	CONSTRAINT booking_request_history_state_check CHECK (state IN ('CREATED', 'ACCEPTED', 'REFUSED', 'DELETED')),
	CONSTRAINT fk_booking_request_history_actor_id FOREIGN KEY(actor_id) REFERENCES users (id)
);

CREATE TABLE instance (
	id BIGSERIAL NOT NULL,
	uid VARCHAR(16) NOT NULL,
	compute_id VARCHAR(250),
	name VARCHAR(250) NOT NULL,
	comments VARCHAR(2500),
	plan_id BIGINT,
	username VARCHAR(100),
	ip_address VARCHAR(255),
	state VARCHAR(50) NOT NULL,
	screen_width INTEGER NOT NULL,
	screen_height INTEGER NOT NULL,
	keyboard_layout VARCHAR(100) DEFAULT 'en-gb-qwerty' NOT NULL,
	last_seen_at TIMESTAMP WITH TIME ZONE,
	last_interaction_at TIMESTAMP WITH TIME ZONE,
	termination_date TIMESTAMP WITH TIME ZONE,
	delete_requested BOOLEAN DEFAULT false NOT NULL,
	deleted_at TIMESTAMP WITH TIME ZONE,
	security_groups TEXT,
	expiration_date TIMESTAMP WITH TIME ZONE,
	active_at TIMESTAMP WITH TIME ZONE,
	unrestricted_member_access TIMESTAMP WITH TIME ZONE,
	active_protocols TEXT,
	state_hash INTEGER,
	vdi_protocol BIGINT,
	public_access_token VARCHAR(250),
	public_access_role VARCHAR(255),
	lifetime_minutes BIGINT,
	booking_token_id BIGINT,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_plan_id FOREIGN KEY(plan_id) REFERENCES plan (id),
	CONSTRAINT instance_state_check CHECK (state IN ('ACTIVE', 'PARTIALLY_ACTIVE', 'ACTIVE_MIGRATING', 'BUILDING', 'DELETED', 'DELETING', 'ERROR', 'STARTING', 'STOPPED', 'STOPPING', 'REBOOTING', 'MIGRATING', 'UNAVAILABLE', 'UNKNOWN')),
	CONSTRAINT fk_instance_vdi_protocol FOREIGN KEY(vdi_protocol) REFERENCES protocol (id),
	CONSTRAINT instance_public_access_role_check CHECK (public_access_role IN ('OWNER', 'USER', 'GUEST', 'SUPPORT', 'NONE'))
);

CREATE UNIQUE INDEX uk_instance_uid ON instance (uid) WHERE deleted_at IS NULL;

CREATE TABLE booking_token (
	id BIGSERIAL NOT NULL,
	uid VARCHAR(16) NOT NULL,
	booking_request_id BIGINT NOT NULL,
	flavour_id BIGINT NOT NULL,
	instance_id BIGINT,
	owner_id VARCHAR(250),
	deleted_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT booking_token_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_token_booking_request_id FOREIGN KEY(booking_request_id) REFERENCES booking_request (id),
	CONSTRAINT fk_booking_token_flavour_id FOREIGN KEY(flavour_id) REFERENCES flavour (id),
	CONSTRAINT fk_booking_token_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT fk_booking_token_owner_id FOREIGN KEY(owner_id) REFERENCES users (id)
);

CREATE TABLE instance_activity (
	id BIGSERIAL NOT NULL,
	user_id VARCHAR(250) NOT NULL,
	instance_id BIGINT NOT NULL,
	activity_type VARCHAR(50) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_activity_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_activity_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT fk_instance_activity_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT instance_activity_activity_type_check CHECK (activity_type IN ('MOUSE', 'KEYBOARD', 'MOUSE_AND_KEYBOARD'))
);

CREATE INDEX ix_instance_activity_instance_id ON instance_activity (instance_id);

CREATE TABLE instance_attribute (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	name VARCHAR(255) NOT NULL,
	value VARCHAR(255) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_attribute_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_attribute_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id)
);

CREATE INDEX ix_instance_attribute_instance_id ON instance_attribute (instance_id);

CREATE TABLE instance_authentication_token (
	id BIGSERIAL NOT NULL,
	token VARCHAR(250) NOT NULL,
	instance_id BIGINT NOT NULL,
	user_id VARCHAR(250) NOT NULL,
	public_access_token VARCHAR(250),
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_authentication_token_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_authentication_token_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT fk_instance_authentication_token_user_id FOREIGN KEY(user_id) REFERENCES users (id)
);

CREATE INDEX ix_instance_authentication_token_token ON instance_authentication_token (token);

CREATE TABLE instance_command (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	user_id VARCHAR(250),
	action_type VARCHAR(50) NOT NULL,
	state VARCHAR(50) NOT NULL,
	message VARCHAR(255),
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_command_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_command_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT fk_instance_command_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT instance_command_action_type_check CHECK (action_type IN ('CREATE', 'START', 'REBOOT', 'SHUTDOWN', 'DELETE', 'STATE', 'UPDATE_SECURITY_GROUPS')),
	CONSTRAINT instance_command_state_check CHECK (state IN ('PENDING', 'QUEUED', 'RUNNING', 'TERMINATED', 'FAILED', 'CANCELLED'))
);

CREATE INDEX ix_instance_command_instance_id ON instance_command (instance_id);

CREATE TABLE instance_device_allocation (
	instance_id BIGINT NOT NULL,
	device_pool_id BIGINT NOT NULL,
	unit_count INTEGER NOT NULL,
	CONSTRAINT instance_device_allocation_pkey PRIMARY KEY (instance_id, device_pool_id),
	CONSTRAINT fk_instance_device_allocation_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT fk_instance_device_allocation_device_pool_id FOREIGN KEY(device_pool_id) REFERENCES device_pool (id)
);

CREATE TABLE instance_experiment (
	experiment_id VARCHAR(32) NOT NULL,
	instance_id BIGINT NOT NULL,
	CONSTRAINT instance_experiment_pkey PRIMARY KEY (experiment_id, instance_id),
	CONSTRAINT fk_instance_experiment_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiment (id),
	CONSTRAINT fk_instance_experiment_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id)
);

CREATE INDEX ix_instance_experiment_instance_id ON instance_experiment (instance_id);

CREATE TABLE instance_expiration (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	expiration_date TIMESTAMP WITH TIME ZONE NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_expiration_pkey PRIMARY KEY (id),
	CONSTRAINT uk_instance_expiration_instance_id UNIQUE (instance_id),
	CONSTRAINT fk_instance_expiration_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id)
);

CREATE TABLE instance_extension_request (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	comments VARCHAR(4000),
	state VARCHAR(50) NOT NULL,
	original_termination_date TIMESTAMP WITH TIME ZONE NOT NULL,
	extension_date TIMESTAMP WITH TIME ZONE,
	handler_id VARCHAR(250),
	handled_on TIMESTAMP WITH TIME ZONE,
	handler_comments VARCHAR(4000),
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_extension_request_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_extension_request_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT instance_extension_request_state_check CHECK (state IN ('PENDING', 'ACCEPTED', 'REFUSED')),
	CONSTRAINT fk_instance_extension_request_handler_id FOREIGN KEY(handler_id) REFERENCES users (id)
);

CREATE INDEX ix_instance_extension_request_instance_id ON instance_extension_request (instance_id);

CREATE TABLE instance_jupyter_session (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	user_id VARCHAR(250) NOT NULL,
	kernel_id VARCHAR(150) NOT NULL,
	session_id VARCHAR(150) NOT NULL,
	active BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_jupyter_session_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_jupyter_session_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT fk_instance_jupyter_session_user_id FOREIGN KEY(user_id) REFERENCES users (id)
);

CREATE INDEX ix_instance_jupyter_session_instance_id ON instance_jupyter_session (instance_id);

CREATE TABLE instance_member (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	user_id VARCHAR(250) NOT NULL,
	role VARCHAR(255) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_member_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_member_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT fk_instance_member_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT instance_member_role_check CHECK (role IN ('OWNER', 'USER', 'GUEST', 'SUPPORT', 'NONE'))
);

CREATE INDEX ix_instance_member_instance_id ON instance_member (instance_id);

CREATE INDEX ix_instance_member_user_id ON instance_member (user_id);

CREATE TABLE instance_session (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	connection_id VARCHAR(150) NOT NULL,
	protocol VARCHAR(150),
	current BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_session_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_session_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id)
);

CREATE INDEX ix_instance_session_instance_id ON instance_session (instance_id);

CREATE TABLE instance_thumbnail (
	id BIGSERIAL NOT NULL,
	instance_id BIGINT NOT NULL,
	data TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_thumbnail_pkey PRIMARY KEY (id),
	CONSTRAINT uk_instance_thumbnail_instance_id UNIQUE (instance_id),
	CONSTRAINT fk_instance_thumbnail_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id)
);

CREATE TABLE personal_access_token (
	id BIGSERIAL NOT NULL,
	token VARCHAR(250) NOT NULL,
	name VARCHAR(250) NOT NULL,
	instance_id BIGINT NOT NULL,
	role VARCHAR(255),
	user_id VARCHAR(250),
	activated_at TIMESTAMP WITH TIME ZONE,
	deleted_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT personal_access_token_pkey PRIMARY KEY (id),
	CONSTRAINT fk_personal_access_token_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id),
	CONSTRAINT personal_access_token_role_check CHECK (role IN ('OWNER', 'USER', 'GUEST', 'SUPPORT', 'NONE')),
	CONSTRAINT fk_personal_access_token_user_id FOREIGN KEY(user_id) REFERENCES users (id)
);

CREATE INDEX ix_personal_access_token_token ON personal_access_token (token);

CREATE TABLE booking_token_history (
	id BIGSERIAL NOT NULL,
	booking_token_id BIGINT NOT NULL,
	owner_id VARCHAR(250) NOT NULL,
	instance_id BIGINT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT booking_token_history_pkey PRIMARY KEY (id),
	CONSTRAINT fk_booking_token_history_booking_token_id FOREIGN KEY(booking_token_id) REFERENCES booking_token (id),
	CONSTRAINT fk_booking_token_history_owner_id FOREIGN KEY(owner_id) REFERENCES users (id),
	CONSTRAINT fk_booking_token_history_instance_id FOREIGN KEY(instance_id) REFERENCES instance (id)
);

CREATE TABLE instance_session_member (
	id BIGSERIAL NOT NULL,
	instance_session_id BIGINT NOT NULL,
	session_id VARCHAR(150) NOT NULL,
	user_id VARCHAR(250) NOT NULL,
	role VARCHAR(150) NOT NULL,
	active BOOLEAN NOT NULL,
	last_interaction_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
	CONSTRAINT instance_session_member_pkey PRIMARY KEY (id),
	CONSTRAINT fk_instance_session_member_instance_session_id FOREIGN KEY(instance_session_id) REFERENCES instance_session (id),
	CONSTRAINT fk_instance_session_member_user_id FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT instance_session_member_role_check CHECK (role IN ('OWNER', 'USER', 'GUEST', 'SUPPORT', 'NONE'))
);

CREATE INDEX ix_instance_session_member_instance_session_id ON instance_session_member (instance_session_id);

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

INSERT INTO alembic_version (version_num) VALUES ('0003_notification_outbox');
