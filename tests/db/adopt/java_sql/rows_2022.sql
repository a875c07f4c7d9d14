INSERT INTO visa.employer (id, country_code, name, town) VALUES
    (1, 'FR', 'Institut Laue-Langevin', 'Grenoble'),
    (2, 'FR', 'ESRF', 'Grenoble'),
    (17, 'DE', 'Helmholtz-Zentrum', 'Berlin');
INSERT INTO visa.users (id, affiliation, email, first_name, last_name, last_seen_at,
                        instance_quota, affiliation_id, activated_at) VALUES
    ('1001', 'ILL', 'jdoe@example.org', 'Jane', 'Doe', '2026-07-01 09:15:00', 5, 1, '2021-02-01 10:00:00'),
    ('1002', NULL, 'asmith@example.org', 'Alan', 'Smith', '2026-01-20 17:45:30', 2, 2, '2022-03-14 08:00:00'),
    ('1003', NULL, 'bwayne@example.org', 'Bruce', 'Wayne', NULL, -1, 17, '2023-11-05 12:00:00'),
    ('1004', NULL, 'cguest@example.org', 'Carla', 'Guest', '2026-06-30 23:59:59', 1, NULL, '2026-06-01 00:00:00'),
    ('1005', NULL, NULL, NULL, 'Etl-Only', NULL, 2, 1, NULL),
    ('1006', NULL, 'support@example.org', 'Sam', 'Support', '2026-07-02 08:00:00', 0, 1, '2020-01-01 00:00:00');

INSERT INTO visa.role (id, description, name) VALUES
    (1, 'Administrator Role', 'ADMIN'), (2, 'Staff Role', 'STAFF'), (3, 'IT Support Role', 'IT_SUPPORT'),
    (4, 'Instrument Scientist Role', 'INSTRUMENT_SCIENTIST'),
    (5, 'Instrument Control Role', 'INSTRUMENT_CONTROL'),
    (6, 'Scientific Computing Role', 'SCIENTIFIC_COMPUTING'),
    (8, 'Guest Role', 'GUEST');
SELECT setval('visa.role_id_seq', 8);
INSERT INTO visa.user_role (user_id, role_id) VALUES
    ('1001', 1), ('1001', 2), ('1002', 4), ('1004', 8), ('1006', 3), ('1006', 2);

INSERT INTO visa.instrument (id, name) VALUES (11, 'D22'), (12, 'IN5');
INSERT INTO visa.instrument_scientist (instrument_id, user_id) VALUES (11, '1002'), (12, '1002');
INSERT INTO visa.proposal (id, identifier, title, public_at, summary) VALUES
    (501, '1-04-123', 'Protein dynamics under pressure', '2029-01-01 00:00:00', 'We will ...'),
    (502, 'TEST-9', 'Commissioning', NULL, NULL);
INSERT INTO visa.experiment (id, instrument_id, proposal_id, start_date, end_date) VALUES
    ('exp-2026-001', 11, 501, '2026-03-29 08:00:00', '2026-04-02 08:00:00'),
    ('exp-2026-002', 12, 501, '2026-10-25 01:30:00', '2026-10-27 08:00:00'),
    ('exp-open', 12, 502, '2026-01-10 08:00:00', NULL);
INSERT INTO visa.experiment_user (experiment_id, user_id) VALUES
    ('exp-2026-001', '1001'), ('exp-2026-001', '1003'), ('exp-2026-002', '1003'), ('exp-open', '1002');

INSERT INTO visa.protocol (id, name, port) VALUES (1, 'RDP', 3389), (2, 'GUACD', 4822), (3, 'JUPYTER', 8888);
SELECT setval('visa.protocol_id_seq', 3);
INSERT INTO visa.image (id, created_at, updated_at, compute_id, description, icon, name, deleted,
                        visible, version, boot_command, autologin) VALUES
    (1, '2021-01-05 10:00:00', '2024-06-01 12:00:00', 'img-ubuntu-2004', 'Ubuntu desktop', 'ubuntu.png',
     'Ubuntu', false, true, '20.04', '#!/bin/sh\necho hello', 'VISA_PAM'),
    (2, '2022-02-05 10:00:00', '2022-02-05 10:00:00', 'img-old', NULL, 'old.png', 'Old image', true,
     false, '1.0', NULL, NULL);
SELECT setval('visa.image_id_seq', 2);
INSERT INTO visa.image_protocol (image_id, protocol_id) VALUES (1, 1), (1, 2), (1, 3), (2, 1);
INSERT INTO visa.flavour (id, created_at, updated_at, compute_id, cpu, memory, name, deleted) VALUES
    (1, '2021-01-05 10:00:00', '2021-01-05 10:00:00', 'flv-small', 2, 4096, 'Small', false),
    (2, '2021-01-05 10:00:00', '2023-01-05 10:00:00', 'flv-gpu', 0.5, 65536, 'GPU half', false);
SELECT setval('visa.flavour_id_seq', 2);
INSERT INTO visa.flavour_limit (id, object_id, object_type, flavour_id) VALUES (1, 11, 'INSTRUMENT', 2), (2, 2, 'ROLE', 2);
SELECT setval('visa.flavour_limit_id_seq', 2);
INSERT INTO visa.plan (id, created_at, updated_at, flavour_id, image_id, preset) VALUES
    (1, '2021-01-05 10:00:00', '2021-01-05 10:00:00', 1, 1, true),
    (2, '2021-01-05 10:00:00', '2021-01-05 10:00:00', 2, 1, false);
SELECT setval('visa.plan_id_seq', 2);
INSERT INTO visa.security_group (id, name) VALUES (1, 'default'), (2, 'd22-data');
SELECT setval('visa.security_group_id_seq', 2);
INSERT INTO visa.security_group_filter (id, object_id, object_type, security_group_id) VALUES
    (1, 11, 'INSTRUMENT', 2), (2, 3, 'ROLE', 1);
SELECT setval('visa.security_group_filter_id_seq', 2);

-- Instances in several states; instance 7 came from an import after which the sequence was
-- left behind (it stands at 5): adoption must move it past 7.
INSERT INTO visa.instance (id, uid, created_at, updated_at, comments, compute_id, name, screen_height,
        screen_width, state, last_seen_at, termination_date, plan_id, username, delete_requested,
        last_interaction_at, ip_address, keyboard_layout, deleted_at, security_groups) VALUES
    (1, 'aB3dE5gH', '2026-06-01 09:00:00', '2026-07-01 09:15:00', 'analysis of run 42', 'srv-1', 'busy_bee',
     1080, 1920, 'ACTIVE', '2026-07-01 09:15:00', '2026-07-15 18:00:00', 1, 'jdoe', false,
     '2026-07-01 09:14:00', '10.0.0.11', 'fr-fr-azerty', NULL, 'default,d22-data'),
    (2, 'Zz9Yy8Xx', '2026-01-10 14:00:00', '2026-01-20 17:45:30', NULL, 'srv-2', 'quiet_owl',
     900, 1440, 'STOPPED', '2026-01-20 17:45:30', '2026-02-10 14:00:00', 2, 'asmith', false,
     NULL, '10.0.0.12', 'en-gb-qwerty', NULL, 'default'),
    (3, 'Bb7Cc6Dd', '2026-07-02 07:59:00', '2026-07-02 08:00:00', NULL, NULL, 'new_fox',
     768, 1024, 'BUILDING', NULL, '2026-07-16 08:00:00', 1, 'bwayne', false,
     NULL, NULL, 'en-gb-qwerty', NULL, NULL),
    (4, 'Ee5Ff4Gg', '2025-12-24 10:00:00', '2025-12-24 10:05:00', 'broken', 'srv-4', 'sad_cat',
     768, 1024, 'ERROR', NULL, NULL, 1, 'bwayne', true,
     NULL, NULL, 'en-gb-qwerty', NULL, NULL),
    (7, '7', '2024-03-31 01:30:00', '2024-04-01 10:00:00', NULL, 'srv-7', 'old_dog',
     768, 1024, 'DELETED', NULL, '2024-04-14 01:30:00', 1, 'jdoe', false,
     NULL, NULL, 'en-gb-qwerty', '2024-04-01 10:00:00', NULL);
SELECT setval('visa.instance_id_seq', 5);
INSERT INTO visa.instance_member (id, created_at, updated_at, role, user_id, instance_id) VALUES
    (1, '2026-06-01 09:00:00', '2026-06-01 09:00:00', 'OWNER', '1001', 1),
    (2, '2026-06-02 11:00:00', '2026-06-02 11:00:00', 'USER', '1003', 1),
    (3, '2026-06-03 11:00:00', '2026-06-03 11:00:00', 'SUPPORT', '1006', 1),
    (4, '2026-01-10 14:00:00', '2026-01-10 14:00:00', 'OWNER', '1002', 2),
    (5, '2026-07-02 07:59:00', '2026-07-02 07:59:00', 'OWNER', '1003', 3),
    (6, '2025-12-24 10:00:00', '2025-12-24 10:00:00', 'OWNER', '1003', 4),
    (7, '2024-03-31 01:30:00', '2024-03-31 01:30:00', 'OWNER', '1001', 7),
    (8, '2026-01-11 09:00:00', '2026-01-11 09:00:00', 'GUEST', '1004', 2);
SELECT setval('visa.instance_member_id_seq', 8);
INSERT INTO visa.instance_experiment (experiment_id, instance_id) VALUES
    ('exp-2026-001', 1), ('exp-2026-002', 1), ('exp-open', 2);
INSERT INTO visa.instance_attribute (id, created_at, updated_at, name, value, instance_id) VALUES
    (1, '2026-06-01 09:00:00', '2026-06-01 09:00:00', 'homePath', '/home/jdoe', 1),
    (2, '2026-06-01 09:00:00', '2026-06-01 09:00:00', 'uid', '31001', 1);
SELECT setval('visa.instance_attribute_id_seq', 2);
-- a user's START still waiting when the Java server stopped, and the history
INSERT INTO visa.instance_command (id, created_at, updated_at, action_type, message, state, instance_id, user_id) VALUES
    (1, '2026-06-01 09:00:00', '2026-06-01 09:02:00', 'CREATE', NULL, 'TERMINATED', 1, '1001'),
    (2, '2026-01-20 17:40:00', '2026-01-20 17:45:30', 'SHUTDOWN', NULL, 'TERMINATED', 2, '1002'),
    (3, '2026-07-02 07:59:30', '2026-07-02 07:59:30', 'START', NULL, 'PENDING', 2, '1002'),
    (4, '2025-12-24 10:00:00', '2025-12-24 10:05:00', 'CREATE', 'Action failed: no host', 'FAILED', 4, '1003');
SELECT setval('visa.instance_command_id_seq', 4);
-- expirations: one in summer time, one in winter time
INSERT INTO visa.instance_expiration (id, created_at, updated_at, expiration_date, instance_id) VALUES
    (1, '2026-07-01 10:00:00', '2026-07-01 10:00:00', '2026-07-15 18:00:00', 1),
    (2, '2026-01-21 10:00:00', '2026-01-21 10:00:00', '2026-02-10 14:00:00', 2);
SELECT setval('visa.instance_expiration_id_seq', 100);
INSERT INTO visa.instance_session (id, created_at, updated_at, connection_id, instance_id, current) VALUES
    (1, '2026-07-01 08:00:00', '2026-07-01 09:15:00', 'guac-conn-1', 1, true),
    (2, '2026-01-15 08:00:00', '2026-01-20 17:45:00', 'guac-conn-0', 2, false);
SELECT setval('visa.instance_session_id_seq', 2);
INSERT INTO visa.instance_session_member (id, created_at, updated_at, active, role, session_id,
        instance_session_id, user_id, last_seen_at, last_interaction_at) VALUES
    (1, '2026-07-01 08:00:00', '2026-07-01 09:15:00', true, 'OWNER', 'client-a', 1, '1001', '2026-07-01 09:15:00', '2026-07-01 09:14:00'),
    (2, '2026-07-01 08:30:00', '2026-07-01 08:45:00', false, 'SUPPORT', 'client-b', 1, '1006', NULL, NULL),
    (3, '2026-01-15 08:00:00', '2026-01-20 17:45:00', false, 'OWNER', 'client-c', 2, '1002', NULL, '2026-01-20 17:44:00');
SELECT setval('visa.instance_session_member_id_seq', 3);
INSERT INTO visa.instance_thumbnail (id, created_at, updated_at, instance_id, data) VALUES
    (1, '2026-07-01 09:00:00', '2026-07-01 09:10:00', 1, '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD');
SELECT setval('visa.instance_thumbnail_id_seq', 1);
INSERT INTO visa.instance_authentication_token (id, created_at, updated_at, token, instance_id, user_id) VALUES
    (1, '2026-07-01 09:15:00', '2026-07-01 09:15:00', '5f0c2f7e-8c1a-4d6b-9e2a-0d5e6f7a8b9c', 1, '1001');
SELECT setval('visa.instance_authentication_token_id_seq', 1);
INSERT INTO visa.instance_jupyter_session (id, created_at, updated_at, active, kernel_id, session_id, instance_id, user_id) VALUES
    (1, '2026-07-01 09:00:00', '2026-07-01 09:05:00', true, 'kernel-1', 'jsession-1', 1, '1003');
SELECT setval('visa.instance_jupyter_session_id_seq', 1);
INSERT INTO visa.system_notification (id, created_at, updated_at, level, message, deleted_at, activated_at) VALUES
    (1, '2026-06-30 12:00:00', '2026-06-30 12:00:00', 'WARN', 'Maintenance on Monday', NULL, '2026-06-30 12:00:00'),
    (2, '2022-05-01 12:00:00', '2022-05-02 12:00:00', 'INFO', 'Welcome to VISA', '2022-05-02 12:00:00', NULL);
SELECT setval('visa.system_notification_id_seq', 2);
INSERT INTO visa.configuration (id, key, value) VALUES
    (1, 'facility', 'ILL'), (2, 'contactEmail', 'visa@example.org');
SELECT setval('visa.configuration_id_seq', 2);
