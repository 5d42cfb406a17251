<?php
// PHP's built-in server in front of Debian's WordPress, doing what WordPress's .htaccess rewrite
// does: existing files are served (PHP ones run), everything else goes to index.php. ABSPATH is
// the site directory the test harness made (its own wp-config.php, the rest linked to
// /usr/share/wordpress), so Debian's per-host configuration under /etc is never used.
define('ABSPATH', rtrim(getenv('HANDPOST_WP_SITE'), '/') . '/');
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
if (strpos($path, '..') !== false) {
    http_response_code(400);
    return true;
}
$target = ABSPATH . ltrim($path, '/');
if (is_dir($target) && file_exists(rtrim($target, '/') . '/index.php')) {
    $target = rtrim($target, '/') . '/index.php';
}
if ($path !== '/' && is_file($target)) {
    if (substr($target, -4) !== '.php') {
        return false; // a static file: the built-in server sends it
    }
    $_SERVER['SCRIPT_FILENAME'] = $target;
    $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/' . ltrim(substr($target, strlen(ABSPATH)), '/');
    chdir(dirname($target));
    require $target;
    return true;
}
$_SERVER['SCRIPT_FILENAME'] = ABSPATH . 'index.php';
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/index.php';
chdir(ABSPATH);
require ABSPATH . 'index.php';
return true;
