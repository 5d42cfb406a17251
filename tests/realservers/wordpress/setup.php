<?php
// Installs the test site and prints JSON: the admin's login and a fresh application password.
// Run with php-cli, with the same HANDPOST_WP_* environment as the server.
define('ABSPATH', rtrim(getenv('HANDPOST_WP_SITE'), '/') . '/');
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url(getenv('HANDPOST_WP_URL'), PHP_URL_HOST);
require_once ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$password = getenv('HANDPOST_WP_ADMIN_PASSWORD');
wp_install('Handpost test blog', 'admin', 'admin@example.com', true, '', $password);
// Pretty permalinks, as most blogs have; the rules must be rebuilt with the new structure.
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%postname%/');
$wp_rewrite->flush_rules(true);
$user = get_user_by('login', 'admin');
list($app_password, $item) = WP_Application_Passwords::create_new_application_password(
    $user->ID, array('name' => 'handpost-test-setup')
);
echo json_encode(array('user' => 'admin', 'password' => $password, 'app_password' => $app_password));
