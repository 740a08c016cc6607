"""Site chrome shared by every server-rendered page: navigation, where a login lands, and the HTML error
pages. It owns no models; the apps' own pages live in each app."""
