INSERT INTO visa.protocol (id, name, port, optional) VALUES
    (4, 'WEBX', 5555, false), (5, 'VISA_FS', 8090, true), (6, 'VISA_PRINT', 8091, true);
SELECT setval('visa.protocol_id_seq', 6);
UPDATE visa.user_role SET expires_at = '2026-08-31 23:59:59' WHERE user_id = '1004' AND role_id = 8;
INSERT INTO visa.role (id, description, name, group_created_at) VALUES
    (9, 'D22 beamline team', 'D22_TEAM', '2025-03-01 10:00:00');
SELECT setval('visa.role_id_seq', 9);
INSERT INTO visa.user_role (user_id, role_id) VALUES ('1003', 9);
UPDATE visa.proposal SET doi = '10.5291/ILL-DATA.1-04-123', url = 'https://doi.org/10.5291/ILL-DATA.1-04-123' WHERE id = 501;
UPDATE visa.experiment SET title = 'Pressure series', doi = '10.5291/X', url = 'https://x' WHERE id = 'exp-2026-001';
UPDATE visa.plan SET deleted_at = '2025-05-05 05:05:05' WHERE id = 2;
UPDATE visa.system_notification SET type = 'MODAL' WHERE id = 1;
UPDATE visa.instance_session SET protocol = 'guacamole';

INSERT INTO visa.cloud_provider_configuration (id, created_at, updated_at, name, server_name_prefix, type, visible)
    VALUES (1, '2024-01-01 10:00:00', '2024-01-01 10:00:00', 'GPU cloud', 'gpu', 'openstack', true);
INSERT INTO visa.cloud_provider_configuration_parameter (created_at, updated_at, key, value, cloud_provider_configuration_id) VALUES
    ('2024-01-01 10:00:00', '2024-01-01 10:00:00', 'computeEndpoint', 'https://nova.example.org', 1),
    ('2024-01-01 10:00:00', '2024-01-01 10:00:00', 'applicationSecret', 's3cr3t', 1);
UPDATE visa.image SET default_vdi_protocol = 2, secondary_vdi_protocol = 1, auto_accept_extension_request = 'STAFF' WHERE id = 1;
UPDATE visa.flavour SET cloud_provider_configuration_id = 1 WHERE id = 2;
UPDATE visa.security_group SET cloud_provider_configuration_id = 1 WHERE id = 2;
UPDATE visa.instance SET vdi_protocol = 2, state = 'PARTIALLY_ACTIVE', active_protocols = 'GUACD',
    unrestricted_member_access = '2026-06-05 10:00:00', expiration_date = '2026-07-15 18:00:00',
    public_access_token = '3b9f7c0e-0a1d-4b5e-8f2a-6c7d8e9f0a1b', public_access_role = 'USER',
    lifetime_minutes = 20160, state_hash = -12345, active_at = '2026-06-01 09:03:00' WHERE id = 1;
UPDATE visa.instance SET state = 'ACTIVE_MIGRATING', booking_token_id = 1 WHERE id = 3;
UPDATE visa.instance_authentication_token SET public_access_token = '3b9f7c0e-0a1d-4b5e-8f2a-6c7d8e9f0a1b';

INSERT INTO visa.application_credential (name, application_id, application_secret, salt, last_used_at)
    VALUES ('monitoring', '0123456789abcdef0123456789abcdef', 'a1b2c3', 'saltsaltsaltsalt', '2026-07-01 09:00:00');
INSERT INTO visa.instance_extension_request (created_at, updated_at, comments, original_termination_date, state, instance_id)
    VALUES ('2026-07-01 09:00:00', '2026-07-01 09:00:00', 'Beamtime extended', '2026-07-15 18:00:00', 'PENDING', 1);
INSERT INTO visa.instance_activity (created_at, updated_at, user_id, instance_id, activity_type) VALUES
    ('2026-07-01 09:14:00', '2026-07-01 09:14:00', '1001', 1, 'MOUSE_AND_KEYBOARD'),
    ('2026-07-01 09:14:15', '2026-07-01 09:14:15', '1003', 1, 'KEYBOARD');
INSERT INTO visa.acknowledged_system_notification (system_notification_id, acknowledged_by_user_id) VALUES (1, '1001');
INSERT INTO visa.personal_access_token (created_at, updated_at, name, role, token, instance_id) VALUES
    ('2026-06-10 10:00:00', '2026-06-10 10:00:00', 'for the students', 'USER', 'a2c4e6f8-1111-2222-3333-444455556666', 1);
INSERT INTO visa.flavour_role_lifetime (duration_minutes, flavour_id, role_id) VALUES (20160, 1, NULL), (43200, 1, 2);
INSERT INTO visa.device_pool (created_at, updated_at, compute_identifier, description, device_type, name, resource_class, total_units, cloud_provider_configuration_id)
    VALUES ('2025-01-01 10:00:00', '2025-01-01 10:00:00', 'a100', 'NVIDIA A100', 'PCI_PASSTHROUGH', 'A100', 'CUSTOM_A100', 4, 1);
INSERT INTO visa.flavour_device (unit_count, device_pool_id, flavour_id) VALUES (1, 1, 2);
INSERT INTO visa.instance_device_allocation (unit_count, device_pool_id, instance_id) VALUES (1, 1, 1);
INSERT INTO visa.cloud_resources (created_at, updated_at, instances_total, instances_usage, memory_mb_total, memory_mb_usage, vcpu_total, vcpu_usage)
    VALUES ('2026-07-02 08:00:00', '2026-07-02 08:01:00', 100, 4, 1048576, 73728, 400, 8);
INSERT INTO visa.hypervisor (created_at, updated_at, compute_id, hostname, state, status, cloud_provider_configuration_id)
    VALUES ('2025-01-01 10:00:00', '2026-07-02 08:00:00', 'hv-1', 'gpu01.example.org', 'up', 'enabled', 1);
INSERT INTO visa.hypervisor_resource (resource_class, total, usage, hypervisor_id) VALUES ('VCPU', 128, 8, 1), ('MEMORY_MB', 524288, 65536, 1);
INSERT INTO visa.hypervisor_allocation (server_compute_id, hypervisor_id) VALUES ('srv-1', 1);
INSERT INTO visa.booking_configuration (created_at, updated_at, enabled, max_days_reservation, max_instances_per_reservation, cloud_provider_configuration_id)
    VALUES ('2025-06-01 10:00:00', '2025-06-01 10:00:00', true, 5, 10, 1);
INSERT INTO visa.booking_configuration_flavour (booking_configuration_id, flavour_id) VALUES (1, 2);
INSERT INTO visa.booking_role_configuration (auto_accept, booking_configuration_id, role_id) VALUES (true, 1, 2);
INSERT INTO visa.booking_flavour_role_configuration (max_days_reservation, max_instances_per_reservation, booking_configuration_id, flavour_id, role_id)
    VALUES (3, 2, 1, 2, NULL);
INSERT INTO visa.booking_request (created_at, updated_at, end_date, name, start_date, state, uid, owner_id)
    VALUES ('2026-06-20 10:00:00', '2026-06-21 10:00:00', '2026-07-05 00:00:00', 'Summer school', '2026-07-01 00:00:00', 'ACCEPTED', 'Bk1Bk2Bk', '1002');
INSERT INTO visa.booking_request_flavour (quantity, booking_request_id, flavour_id) VALUES (2, 1, 2);
INSERT INTO visa.booking_request_history (created_at, updated_at, comments, state, actor_id, booking_request_id) VALUES
    ('2026-06-20 10:00:00', '2026-06-20 10:00:00', 'for the students', 'CREATED', '1002', 1),
    ('2026-06-21 10:00:00', '2026-06-21 10:00:00', NULL, 'ACCEPTED', '1001', 1);
INSERT INTO visa.booking_token (created_at, updated_at, uid, booking_request_id, flavour_id, instance_id, owner_id) VALUES
    ('2026-06-21 10:00:00', '2026-07-02 07:59:00', 'Tk1Tk1Tk', 1, 2, 3, '1003'),
    ('2026-06-21 10:00:00', '2026-06-21 10:00:00', 'Tk2Tk2Tk', 1, 2, NULL, NULL);
INSERT INTO visa.booking_token_history (created_at, updated_at, booking_token_id, instance_id, owner_id)
    VALUES ('2026-07-02 07:59:00', '2026-07-02 07:59:00', 1, 3, '1003');
INSERT INTO visa.client_authentication_token (created_at, updated_at, client_id, token, user_id)
    VALUES ('2026-07-02 08:00:00', '2026-07-02 08:00:00', 'web-client-1', 'c0ffee00-1234-5678-9abc-def012345678', '1001');
