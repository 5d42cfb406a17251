<?php
// The test site's configuration, written into its site directory by tests/realservers/wordpress.py.
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', getenv('HANDPOST_WP_DB_HOST'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('WP_CONTENT_DIR', getenv('HANDPOST_WP_CONTENT'));
define('WP_HOME', getenv('HANDPOST_WP_URL'));
define('WP_SITEURL', getenv('HANDPOST_WP_URL'));
// Application passwords over plain http work only in a "local" environment.
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);
define('AUTH_KEY', 'handpost-test'); define('SECURE_AUTH_KEY', 'handpost-test');
define('LOGGED_IN_KEY', 'handpost-test'); define('NONCE_KEY', 'handpost-test');
define('AUTH_SALT', 'handpost-test'); define('SECURE_AUTH_SALT', 'handpost-test');
define('LOGGED_IN_SALT', 'handpost-test'); define('NONCE_SALT', 'handpost-test');
$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
