# The built-in sandbox's services as CTest fixtures: Sandbox.Up/<service> starts one (and
# waits until it is ready), Sandbox.Down/<service> stops it. Every test of an environment with a
# `sandbox:` section requires the fixtures of the services it names, so ctest starts exactly
# what a selection needs, once, and stops it afterwards — also when ctest is killed, because the
# services watch ctest's pid (--watch-parent).
#
# Services are listed in start order; each requires the fixtures of those it depends on.
set(DEPLOYCHECK_SANDBOX_SERVICES
  ca nginx tls appenv dns_primary dns_secondary dns_diverged dns_silent)
# One line per later service, so that branches adding services merge without conflicts.
list(APPEND DEPLOYCHECK_SANDBOX_SERVICES smtp smtp_plain)
list(APPEND DEPLOYCHECK_SANDBOX_SERVICES postgres postgres_broken)
list(APPEND DEPLOYCHECK_SANDBOX_SERVICES postgres_plain)
list(APPEND DEPLOYCHECK_SANDBOX_SERVICES s3 backups)
list(APPEND DEPLOYCHECK_SANDBOX_SERVICES webapp_gunicorn webapp_ws webapp)
set(_deps_ca "")
set(_deps_nginx ca)
set(_deps_tls ca)
set(_deps_appenv ca nginx)
set(_deps_dns_primary "")
set(_deps_dns_secondary "")
set(_deps_dns_diverged "")
set(_deps_dns_silent "")
set(_deps_smtp ca)
set(_deps_smtp_plain "")
set(_deps_postgres ca)
set(_deps_postgres_broken ca postgres)
set(_deps_postgres_plain "")
set(_deps_s3 "")
set(_deps_backups postgres s3)
set(_deps_webapp_gunicorn ca postgres)
set(_deps_webapp_ws "")
set(_deps_webapp ca webapp_gunicorn webapp_ws)

set(_labels "sandbox;Sandbox;pre;post;critical;sandbox:pre;sandbox:post")
foreach(service IN LISTS DEPLOYCHECK_SANDBOX_SERVICES)
  set(required "")
  foreach(dep IN LISTS _deps_${service})
    list(APPEND required dc_sandbox_${dep})
  endforeach()
  add_test(NAME Sandbox.Up/${service}
           COMMAND deploycheck-sandboxctl up --state-dir ${DEPLOYCHECK_SANDBOX_STATE_DIR}
                   --watch-parent ${service})
  set_tests_properties(Sandbox.Up/${service} PROPERTIES
    FIXTURES_SETUP dc_sandbox_${service} FIXTURES_REQUIRED "${required}"
    LABELS "${_labels}" TIMEOUT 60)
  add_test(NAME Sandbox.Down/${service}
           COMMAND deploycheck-sandboxctl down --state-dir ${DEPLOYCHECK_SANDBOX_STATE_DIR} ${service})
  set_tests_properties(Sandbox.Down/${service} PROPERTIES
    FIXTURES_CLEANUP dc_sandbox_${service} FIXTURES_REQUIRED "${required}"
    LABELS "${_labels}" TIMEOUT 60)
endforeach()
