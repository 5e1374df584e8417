/* The default system of clew gen: about 40 services of a SaaS product (edge
 * gateway and BFFs, identity, accounts, billing, messaging, search,
 * notifications, commerce, analytics, platform), a sharded PostgreSQL for
 * accounts, other databases, Redis caches, Elasticsearch, Kafka topics and
 * external APIs. Written with the same builders as the topology file. */
#include "gen/topology.h"

#include "base/err.h"

static struct topo_op *op(struct topo *t, const char *name, double p50, double p99, double err, double weight)
{
	struct topo_op *o = topo_add_op(t, name, p50, p99, err);
	o->weight = weight;
	return o;
}

static void exc(struct topo_op *o, const char *type, const char *message)
{
	o->exc_type = type;
	o->exc_message = message;
}

static struct topo_call *call(struct topo *t, const char *svc, const char *name)
{
	return topo_add_call(t, TOPO_CALL_SERVICE, svc, name, NULL);
}

static struct topo_call *par(struct topo *t, const char *svc, const char *name)
{
	struct topo_call *c = call(t, svc, name);
	c->mode = TOPO_PAR;
	return c;
}

static struct topo_call *maybe(struct topo_call *c, double prob)
{
	c->prob = prob;
	return c;
}

static struct topo_call *rep(struct topo_call *c, uint16_t lo, uint16_t hi)
{
	c->repeat_min = lo;
	c->repeat_max = hi;
	return c;
}

static struct topo_call *db(struct topo *t, const char *name, const char *statement, const char *operation)
{
	return topo_add_call(t, TOPO_CALL_DB, name, statement, operation);
}

static struct topo_call *produce(struct topo *t, const char *topic)
{
	return topo_add_call(t, TOPO_CALL_PRODUCE, topic, NULL, NULL);
}

static struct topo_call *ext(struct topo *t, const char *name, const char *method, const char *path)
{
	return topo_add_call(t, TOPO_CALL_EXTERNAL, name, method, path);
}

static struct topo_call *work(struct topo *t, const char *name, double p50, double p99)
{
	struct topo_call *c = topo_add_call(t, TOPO_CALL_INTERNAL, name, NULL, NULL);
	c->p50_ms = p50;
	c->p99_ms = p99;
	return c;
}

/* Add a database whose db.name (or its shards' prefix) is database. */
static void database(struct topo *t, const char *name, const char *system, uint32_t shards, double p50, double p99,
		     const char *database)
{
	struct topo_db *d = topo_add_db(t, name, system, shards, p50, p99);
	d->db_names = arena_array(&t->arena, 1, sizeof *d->db_names);
	d->db_names[0] = topo_str(t, database);
}

static void dependencies(struct topo *t)
{
	database(t, "accounts-db", "postgresql", 8, 1.2, 12, "accounts");
	database(t, "billing-db", "postgresql", 1, 1.5, 15, "billing");
	database(t, "messaging-db", "cassandra", 1, 1.0, 9, "messaging");
	database(t, "catalog-db", "postgresql", 1, 0.9, 8, "catalog");
	database(t, "orders-db", "mysql", 1, 1.4, 14, "orders");
	database(t, "analytics-db", "clickhouse", 1, 15, 180, "analytics");
	database(t, "session-cache", "redis", 1, 0.25, 2, "0");
	database(t, "app-cache", "redis", 1, 0.3, 2.5, "1");
	database(t, "search-es", "elasticsearch", 1, 6, 60, "search");
	topo_add_topic(t, "account-events", 15, 400);
	topo_add_topic(t, "billing-events", 20, 600);
	topo_add_topic(t, "message-events", 8, 200);
	topo_add_topic(t, "notification-requests", 25, 900);
	topo_add_topic(t, "search-index-updates", 40, 1500);
	topo_add_topic(t, "audit-events", 30, 1200);
	topo_add_topic(t, "order-events", 15, 500);
	topo_add_external(t, "payments-provider", "api.payments-provider.com", 180, 900, 0.004);
	topo_add_external(t, "email-provider", "api.mailer.example.net", 90, 500, 0.002);
	topo_add_external(t, "sms-provider", "api.sms-gateway.example.org", 120, 700, 0.003);
	topo_add_external(t, "push-provider", "fcm.googleapis.com", 60, 350, 0.002);
	topo_add_external(t, "tax-provider", "api.taxrates.example.com", 70, 400, 0.002);
}

static void edge(struct topo *t)
{
	topo_add_service(t, "edge-gateway", "edge", "team-edge", TOPO_HTTP, 8)->language = "go";
	op(t, "GET /api/v1/accounts/{id}", 0.6, 4, 0.0005, 14);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "web-bff", "GET /bff/accounts/{id}");
	op(t, "GET /api/v1/messages", 0.6, 4, 0.0005, 18);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "mobile-bff", "GET /bff/inbox");
	op(t, "POST /api/v1/messages", 0.7, 5, 0.0005, 9);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "mobile-bff", "POST /bff/messages");
	op(t, "GET /api/v1/search", 0.6, 4, 0.0005, 12);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "web-bff", "GET /bff/search");
	op(t, "POST /api/v1/checkout", 0.8, 5, 0.0005, 4);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "web-bff", "POST /bff/checkout");
	op(t, "GET /api/v1/invoices/{id}", 0.6, 4, 0.0005, 5);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "web-bff", "GET /bff/invoices/{id}");
	op(t, "PUT /api/v1/accounts/{id}", 0.7, 5, 0.0005, 2);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "web-bff", "PUT /bff/accounts/{id}");
	op(t, "POST /api/v1/login", 0.8, 6, 0.001, 3);
	call(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "auth", "identity.v1.Auth/Login");
	op(t, "GET /api/v1/catalog", 0.5, 3, 0.0005, 10);
	par(t, "rate-limiter", "platform.v1.RateLimiter/Allow");
	call(t, "web-bff", "GET /bff/catalog");
	op(t, "GET /api/v1/reports/{id}", 0.7, 5, 0.0005, 1);
	par(t, "auth", "identity.v1.Auth/CheckToken");
	call(t, "reporting", "GET /reports/{id}");

	topo_add_service(t, "web-bff", "edge", "team-web", TOPO_HTTP, 6)->language = "nodejs";
	op(t, "GET /bff/accounts/{id}", 1.5, 9, 0.001, 0);
	par(t, "accounts", "accounts.v1.Accounts/GetAccount");
	par(t, "preferences", "accounts.v1.Preferences/Get");
	par(t, "feature-flags", "platform.v1.Flags/Evaluate");
	maybe(par(t, "subscriptions", "billing.v1.Subscriptions/GetActive"), 0.6);
	work(t, "render account view", 0.4, 3);
	op(t, "PUT /bff/accounts/{id}", 1.5, 9, 0.001, 0);
	call(t, "accounts", "accounts.v1.Accounts/UpdateAccount");
	op(t, "GET /bff/search", 1.5, 9, 0.001, 0);
	call(t, "search", "GET /search");
	maybe(call(t, "recommendations", "commerce.v1.Recommendations/ForUser"), 0.5);
	op(t, "POST /bff/checkout", 2, 12, 0.002, 0);
	call(t, "cart", "commerce.v1.Cart/Get");
	call(t, "orders", "POST /orders");
	op(t, "GET /bff/invoices/{id}", 1.5, 9, 0.001, 0);
	call(t, "invoices", "billing.v1.Invoices/Get");
	maybe(call(t, "media", "GET /media/{id}"), 0.3);
	op(t, "GET /bff/catalog", 1.2, 8, 0.001, 0);
	call(t, "catalog", "commerce.v1.Catalog/List");
	par(t, "pricing", "commerce.v1.Pricing/Quote");
	par(t, "inventory", "commerce.v1.Inventory/Check");
	maybe(par(t, "recommendations", "commerce.v1.Recommendations/ForUser"), 0.7);

	topo_add_service(t, "mobile-bff", "edge", "team-mobile", TOPO_HTTP, 6)->language = "nodejs";
	op(t, "GET /bff/inbox", 1.5, 10, 0.001, 0);
	par(t, "conversations", "messaging.v1.Conversations/List");
	par(t, "presence", "messaging.v1.Presence/Get");
	par(t, "profiles", "accounts.v1.Profiles/BatchGet");
	op(t, "POST /bff/messages", 1.8, 12, 0.001, 0);
	call(t, "messaging", "messaging.v1.Messages/Send");
}

static void identity_accounts(struct topo *t)
{
	topo_add_service(t, "auth", "identity", "team-identity", TOPO_GRPC, 6);
	op(t, "identity.v1.Auth/CheckToken", 0.4, 3, 0.0005, 0);
	db(t, "session-cache", "GET session:?", "GET");
	maybe(call(t, "sessions", "identity.v1.Sessions/Validate"), 0.1);
	exc(op(t, "identity.v1.Auth/Login", 25, 90, 0.01, 0), "com.example.auth.InvalidCredentialsException",
	    "invalid username or password");
	call(t, "users", "identity.v1.Users/GetByEmail");
	work(t, "bcrypt verify", 20, 60);
	call(t, "sessions", "identity.v1.Sessions/Create");
	produce(t, "audit-events");

	topo_add_service(t, "sessions", "identity", "team-identity", TOPO_GRPC, 4);
	op(t, "identity.v1.Sessions/Validate", 0.5, 4, 0.0005, 0);
	db(t, "session-cache", "GET session:?", "GET");
	op(t, "identity.v1.Sessions/Create", 0.8, 5, 0.0005, 0);
	db(t, "session-cache", "SETEX session:? 3600 ?", "SETEX");

	topo_add_service(t, "users", "identity", "team-identity", TOPO_GRPC, 4);
	op(t, "identity.v1.Users/GetByEmail", 0.5, 4, 0.0005, 0);
	db(t, "accounts-db", "SELECT id, account_id, password_hash FROM users WHERE email = $1", "SELECT");
	op(t, "identity.v1.Users/Get", 0.4, 3, 0.0005, 0);
	db(t, "app-cache", "GET user:?", "GET");
	maybe(db(t, "accounts-db", "SELECT * FROM users WHERE id = $1", "SELECT"), 0.2);

	topo_add_service(t, "accounts", "accounts", "team-accounts", TOPO_GRPC, 6);
	exc(op(t, "accounts.v1.Accounts/GetAccount", 0.8, 6, 0.001, 0), "com.example.accounts.AccountLoadException",
	    "could not load account");
	db(t, "app-cache", "GET account:?", "GET");
	db(t, "accounts-db", "SELECT * FROM accounts WHERE id = $1", "SELECT");
	db(t, "accounts-db", "SELECT * FROM account_members WHERE account_id = $1", "SELECT");
	op(t, "accounts.v1.Accounts/UpdateAccount", 1.2, 8, 0.002, 0);
	db(t, "accounts-db", "UPDATE accounts SET settings = $2, updated_at = now() WHERE id = $1", "UPDATE");
	db(t, "app-cache", "DEL account:?", "DEL");
	produce(t, "account-events");
	op(t, "accounts.v1.Accounts/GetLimits", 0.5, 4, 0.0005, 0);
	db(t, "accounts-db", "SELECT plan, limits FROM account_limits WHERE account_id = $1", "SELECT");

	topo_add_service(t, "profiles", "accounts", "team-accounts", TOPO_GRPC, 4);
	op(t, "accounts.v1.Profiles/BatchGet", 0.6, 5, 0.001, 0);
	rep(par(t, "users", "identity.v1.Users/Get"), 1, 8);
	op(t, "accounts.v1.Profiles/Get", 0.4, 3, 0.0005, 0);
	call(t, "users", "identity.v1.Users/Get");

	topo_add_service(t, "preferences", "accounts", "team-accounts", TOPO_GRPC, 3);
	op(t, "accounts.v1.Preferences/Get", 0.4, 3, 0.0005, 0);
	db(t, "accounts-db", "SELECT key, value FROM preferences WHERE account_id = $1", "SELECT");
}

static void billing(struct topo *t)
{
	topo_add_service(t, "billing", "billing", "team-billing", TOPO_HTTP, 4);
	op(t, "POST /billing/charge", 3, 20, 0.002, 0);
	call(t, "accounts", "accounts.v1.Accounts/GetLimits");
	call(t, "tax", "billing.v1.Tax/Compute");
	call(t, "payments", "billing.v1.Payments/Authorize");
	call(t, "ledger", "billing.v1.Ledger/Record");
	call(t, "invoices", "billing.v1.Invoices/Create");
	produce(t, "billing-events");

	topo_add_service(t, "invoices", "billing", "team-billing", TOPO_GRPC, 4);
	op(t, "billing.v1.Invoices/Get", 0.8, 6, 0.001, 0);
	db(t, "billing-db", "SELECT * FROM invoices WHERE id = $1 AND account_id = $2", "SELECT");
	db(t, "billing-db", "SELECT * FROM invoice_lines WHERE invoice_id = $1", "SELECT");
	op(t, "billing.v1.Invoices/Create", 1.5, 10, 0.002, 0);
	db(t, "billing-db", "INSERT INTO invoices (account_id, total, currency) VALUES ($1, $2, $3)", "INSERT");
	rep(db(t, "billing-db", "INSERT INTO invoice_lines (invoice_id, sku, amount) VALUES ($1, $2, $3)",
	       "INSERT"), 1, 6);
	work(t, "render invoice pdf", 8, 40);

	topo_add_service(t, "payments", "billing", "team-payments", TOPO_GRPC, 4);
	exc(op(t, "billing.v1.Payments/Authorize", 2, 15, 0.003, 0), "com.example.payments.PaymentDeclinedException",
	    "card declined by issuer");
	db(t, "billing-db", "SELECT token FROM payment_methods WHERE account_id = $1", "SELECT");
	ext(t, "payments-provider", "POST", "/v1/payment_intents");
	db(t, "billing-db", "INSERT INTO payments (account_id, intent_id, amount) VALUES ($1, $2, $3)", "INSERT");

	topo_add_service(t, "subscriptions", "billing", "team-billing", TOPO_GRPC, 3);
	op(t, "billing.v1.Subscriptions/GetActive", 0.6, 5, 0.001, 0);
	db(t, "app-cache", "GET subscription:?", "GET");
	maybe(db(t, "billing-db", "SELECT * FROM subscriptions WHERE account_id = $1 AND active", "SELECT"), 0.3);

	topo_add_service(t, "tax", "billing", "team-payments", TOPO_GRPC, 2);
	op(t, "billing.v1.Tax/Compute", 0.8, 5, 0.001, 0);
	db(t, "app-cache", "GET taxrate:?", "GET");
	maybe(ext(t, "tax-provider", "GET", "/v2/rates"), 0.1);

	topo_add_service(t, "ledger", "billing", "team-payments", TOPO_GRPC, 3);
	op(t, "billing.v1.Ledger/Record", 1.2, 9, 0.001, 0);
	db(t, "billing-db", "INSERT INTO ledger_entries (account_id, amount, kind) VALUES ($1, $2, $3)", "INSERT");
	topo_add_consumer(t, "billing-events", 1.5, 10, 0.001);
	db(t, "billing-db", "UPDATE balances SET amount = amount + $2 WHERE account_id = $1", "UPDATE");
}

static void messaging(struct topo *t)
{
	topo_add_service(t, "messaging", "messaging", "team-messaging", TOPO_GRPC, 6);
	op(t, "messaging.v1.Messages/Send", 1.2, 8, 0.001, 0);
	call(t, "conversations", "messaging.v1.Conversations/Get");
	maybe(call(t, "attachments", "POST /attachments"), 0.15);
	db(t, "messaging-db", "INSERT INTO messages (conversation_id, id, body) VALUES (?, ?, ?)", "INSERT");
	produce(t, "message-events");

	topo_add_service(t, "conversations", "messaging", "team-messaging", TOPO_GRPC, 4);
	op(t, "messaging.v1.Conversations/List", 1.0, 8, 0.001, 0);
	db(t, "messaging-db", "SELECT * FROM conversations WHERE account_id = ? AND user_id = ?", "SELECT");
	rep(par(t, "profiles", "accounts.v1.Profiles/Get"), 1, 5);
	op(t, "messaging.v1.Conversations/Get", 0.6, 5, 0.001, 0);
	db(t, "messaging-db", "SELECT * FROM conversations WHERE id = ?", "SELECT");

	topo_add_service(t, "attachments", "messaging", "team-messaging", TOPO_HTTP, 3);
	op(t, "POST /attachments", 6, 60, 0.002, 0);
	work(t, "virus scan", 10, 80);
	db(t, "messaging-db", "INSERT INTO attachments (id, message_id, size) VALUES (?, ?, ?)", "INSERT");

	topo_add_service(t, "presence", "messaging", "team-messaging", TOPO_GRPC, 3);
	op(t, "messaging.v1.Presence/Get", 0.3, 2, 0.0005, 0);
	rep(db(t, "session-cache", "MGET presence:?", "MGET"), 1, 2);
}

static void search_notify(struct topo *t)
{
	topo_add_service(t, "search", "search", "team-search", TOPO_HTTP, 6);
	op(t, "GET /search", 3, 25, 0.002, 0);
	call(t, "suggest", "search.v1.Suggest/Complete");
	db(t, "search-es", "{\"query\":{\"multi_match\":{\"query\":\"?\"}}}", "search");
	call(t, "ranking", "search.v1.Ranking/Rank");

	topo_add_service(t, "suggest", "search", "team-search", TOPO_GRPC, 3);
	op(t, "search.v1.Suggest/Complete", 0.6, 5, 0.001, 0);
	db(t, "app-cache", "GET suggest:?", "GET");

	topo_add_service(t, "ranking", "search", "team-search", TOPO_GRPC, 4)->language = "python";
	op(t, "search.v1.Ranking/Rank", 4, 30, 0.002, 0);
	rep(par(t, "profiles", "accounts.v1.Profiles/Get"), 2, 20);
	work(t, "score candidates", 3, 20);

	topo_add_service(t, "indexer", "search", "team-search", TOPO_GRPC, 3);
	topo_add_consumer(t, "search-index-updates", 3, 30, 0.002);
	db(t, "search-es", "{\"index\":{\"_index\":\"messages\"}}", "index");
	topo_add_consumer(t, "message-events", 1, 8, 0.001);
	produce(t, "search-index-updates");

	topo_add_service(t, "notifications", "notifications", "team-notify", TOPO_GRPC, 4);
	topo_add_consumer(t, "notification-requests", 2, 15, 0.002);
	call(t, "preferences", "accounts.v1.Preferences/Get");
	call(t, "templates", "notify.v1.Templates/Render");
	maybe(par(t, "email-sender", "notify.v1.Email/Send"), 0.6);
	maybe(par(t, "push-sender", "notify.v1.Push/Send"), 0.5);
	maybe(par(t, "sms-sender", "notify.v1.Sms/Send"), 0.1);
	topo_add_consumer(t, "message-events", 1, 6, 0.001);
	call(t, "presence", "messaging.v1.Presence/Get");
	maybe(produce(t, "notification-requests"), 0.7);
	topo_add_consumer(t, "account-events", 1, 6, 0.001);
	produce(t, "notification-requests");

	topo_add_service(t, "templates", "notifications", "team-notify", TOPO_GRPC, 2);
	op(t, "notify.v1.Templates/Render", 1, 8, 0.001, 0);
	db(t, "app-cache", "GET template:?", "GET");
	work(t, "render template", 0.8, 6);
	topo_add_service(t, "email-sender", "notifications", "team-notify", TOPO_GRPC, 3);
	op(t, "notify.v1.Email/Send", 1, 6, 0.002, 0);
	ext(t, "email-provider", "POST", "/v3/mail/send");
	topo_add_service(t, "push-sender", "notifications", "team-notify", TOPO_GRPC, 3);
	op(t, "notify.v1.Push/Send", 1, 6, 0.002, 0);
	rep(par(t, "devices", "notify.v1.Devices/List"), 1, 1);
	rep(ext(t, "push-provider", "POST", "/v1/projects/app/messages:send"), 1, 4);
	topo_add_service(t, "sms-sender", "notifications", "team-notify", TOPO_GRPC, 2);
	op(t, "notify.v1.Sms/Send", 1, 6, 0.003, 0);
	ext(t, "sms-provider", "POST", "/2010-04-01/Messages.json");
	topo_add_service(t, "devices", "notifications", "team-notify", TOPO_GRPC, 2);
	op(t, "notify.v1.Devices/List", 0.5, 4, 0.001, 0);
	db(t, "accounts-db", "SELECT token, platform FROM devices WHERE user_id = $1", "SELECT");
}

static void commerce_platform(struct topo *t)
{
	topo_add_service(t, "catalog", "commerce", "team-commerce", TOPO_GRPC, 4);
	op(t, "commerce.v1.Catalog/List", 1, 8, 0.001, 0);
	db(t, "app-cache", "GET catalog:page:?", "GET");
	maybe(db(t, "catalog-db", "SELECT * FROM products WHERE category = $1 LIMIT 50", "SELECT"), 0.3);
	topo_add_service(t, "pricing", "commerce", "team-commerce", TOPO_GRPC, 3);
	op(t, "commerce.v1.Pricing/Quote", 0.7, 5, 0.001, 0);
	call(t, "accounts", "accounts.v1.Accounts/GetLimits");
	db(t, "catalog-db", "SELECT sku, price FROM prices WHERE sku = ANY($1)", "SELECT");
	topo_add_service(t, "inventory", "commerce", "team-commerce", TOPO_GRPC, 3);
	op(t, "commerce.v1.Inventory/Check", 0.6, 5, 0.001, 0);
	db(t, "catalog-db", "SELECT sku, available FROM stock WHERE sku = ANY($1)", "SELECT");
	op(t, "commerce.v1.Inventory/Reserve", 1, 8, 0.002, 0);
	db(t, "catalog-db", "UPDATE stock SET available = available - $2 WHERE sku = $1", "UPDATE");
	topo_add_service(t, "cart", "commerce", "team-commerce", TOPO_GRPC, 3);
	op(t, "commerce.v1.Cart/Get", 0.5, 4, 0.001, 0);
	db(t, "app-cache", "HGETALL cart:?", "HGETALL");
	topo_add_service(t, "recommendations", "commerce", "team-growth", TOPO_GRPC, 4)->language = "python";
	op(t, "commerce.v1.Recommendations/ForUser", 5, 40, 0.003, 0);
	db(t, "app-cache", "GET recs:?", "GET");
	work(t, "model inference", 4, 30);
	topo_add_service(t, "media", "commerce", "team-commerce", TOPO_HTTP, 3);
	op(t, "GET /media/{id}", 2, 20, 0.001, 0);
	db(t, "app-cache", "GET media:?", "GET");
	topo_add_service(t, "orders", "commerce", "team-commerce", TOPO_HTTP, 4);
	exc(op(t, "POST /orders", 3, 25, 0.003, 0), "com.example.orders.OrderRejectedException", "order rejected");
	call(t, "pricing", "commerce.v1.Pricing/Quote");
	rep(par(t, "inventory", "commerce.v1.Inventory/Reserve"), 1, 6);
	call(t, "billing", "POST /billing/charge");
	db(t, "orders-db", "INSERT INTO orders (account_id, total, status) VALUES (?, ?, 'paid')", "INSERT");
	produce(t, "order-events");

	topo_add_service(t, "feature-flags", "platform", "team-platform", TOPO_GRPC, 3)->language = "go";
	op(t, "platform.v1.Flags/Evaluate", 0.2, 1.5, 0.0002, 0);
	maybe(db(t, "app-cache", "GET flags:?", "GET"), 0.2);
	topo_add_service(t, "rate-limiter", "platform", "team-platform", TOPO_GRPC, 4)->language = "go";
	op(t, "platform.v1.RateLimiter/Allow", 0.15, 1.2, 0.0002, 0);
	db(t, "session-cache", "EVALSHA ? 1 ratelimit:?", "EVALSHA");
	topo_add_service(t, "audit-log", "platform", "team-security", TOPO_GRPC, 2)->language = "go";
	topo_add_consumer(t, "audit-events", 1, 8, 0.001);
	db(t, "analytics-db", "INSERT INTO audit_log VALUES", "INSERT");
	topo_add_consumer(t, "account-events", 1, 8, 0.001);
	db(t, "analytics-db", "INSERT INTO audit_log VALUES", "INSERT");

	topo_add_service(t, "analytics-ingest", "analytics", "team-data", TOPO_GRPC, 3)->language = "go";
	topo_add_consumer(t, "order-events", 2, 12, 0.001);
	db(t, "analytics-db", "INSERT INTO order_facts VALUES", "INSERT");
	topo_add_consumer(t, "billing-events", 2, 12, 0.001);
	db(t, "analytics-db", "INSERT INTO billing_facts VALUES", "INSERT");
	topo_add_service(t, "fulfillment", "commerce", "team-commerce", TOPO_GRPC, 3);
	topo_add_consumer(t, "order-events", 3, 20, 0.002);
	call(t, "inventory", "commerce.v1.Inventory/Check");
	produce(t, "notification-requests");
	topo_add_service(t, "reporting", "analytics", "team-data", TOPO_HTTP, 2)->language = "python";
	op(t, "GET /reports/{id}", 30, 300, 0.004, 0);
	rep(par(t, "invoices", "billing.v1.Invoices/Get"), 2, 40);
	db(t, "analytics-db", "SELECT toStartOfDay(ts), sum(total) FROM order_facts WHERE account_id = ? GROUP BY 1",
	   "SELECT");
}

int topo_default(struct topo *t)
{
	char err[256];
	dependencies(t);
	edge(t);
	identity_accounts(t);
	billing(t);
	messaging(t);
	search_notify(t);
	commerce_platform(t);
	return topo_finish(t, err, sizeof err) < 0 ? CLEW_EINVAL : 0;
}
