"""The GCP implementation of the provider interface (pulumi-gcp): ``provider.Provider``, one
module per component kind. Importing this package loads nothing else.

foundation     env.py            the Google APIs the stack enables; the stack labels (once, env.py)
encryption     encryption.py     key ring, stack key (90-day rotation), service agents' key grants
network        network.py        custom VPC, connector subnet, Serverless VPC Access connector,
                                 Cloud Router + Cloud NAT, deny-all ingress firewall
database       database.py       Firestore (native) database, composite indexes, TTL policy
notifications  notifications.py  Pub/Sub order-events topic, dead-letter topic + subscription,
                                 mail relay secret
auth           auth.py           Identity Platform config, API key (Secret Manager)
static_site    static_site.py    Cloud Storage bucket + files + config.json
functions      functions.py      Cloud Functions 2nd gen, service accounts, source bucket
                                 (+ packaging.py), push subscription, log bucket + sink;
                                 iam.py: datamodel grants -> IAM bindings
api            api.py            API Gateway (API, config from the route table, gateway)
cdn            cdn.py            global external ALB, backend bucket + Cloud CDN, serverless NEG,
                                 HTTP->HTTPS redirect; firewall.py: Cloud Armor; certificate.py:
                                 managed certificate + DNS record
configuration  configuration.py  Parameter Manager parameters, Secret Manager secrets
monitoring     monitoring.py     notification channel, alert policies, dashboard
"""
