#!/usr/bin/env python3
"""The dev server answers as strictly as the real servers (upstream 3bb6fad3).

One test per behaviour where the dev server used to be more lenient or stricter than the real
lifecycle server (FastAPI 0.136, pydantic 2.12), execd (Go, gin, encoding/json) or the egress
sidecar; each is named after what the real server does and asserts status, code and body.
Files are made through the execd API, so the tests hold whatever isolation the sandboxes have.

    python3 tests/devserver/test_strict.py [-v]
"""

import json
import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_devserver as tds  # noqa: E402
from test_devserver import Base, DevServer, KEY, multipart, request  # noqa: E402


def setUpModule():
    # no test resolves names; a loopback resolver keeps any DNS of the sandboxes local
    tds.SERVER = DevServer("--api-key", KEY, "--command-grace", "0.1", "--dns-upstream", "127.0.0.1:9")


def tearDownModule():
    if tds.SERVER is not None:
        tds.SERVER.stop()


class Strict(Base):
    def err(self, r, status, code, message):
        self.assertEqual(r.status, status, r.text)
        self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(r.json(), {"code": code, "message": message})

    def sbdir(self):
        """A fresh directory inside the shared sandbox, made through execd."""
        d = "/tmp/strict-" + uuid.uuid4().hex[:12]
        r = self.x("POST", "/directories", {d: {"mode": 755}})
        self.assertEqual(r.status, 200, r.text)
        self.addCleanup(lambda: self.x("DELETE", "/directories?path=" + d))
        return d

    def put(self, path, data, **md):
        md["path"] = path
        body, ct = multipart([("metadata", "metadata", json.dumps(md)), ("file", "f", data)])
        return self.x("POST", "/files/upload", body, {"Content-Type": ct})

    def info(self, path):
        return self.x("GET", "/files/info?path=" + path).json()[path]


# ====================================================================== execd: request bodies

class TestExecdBodies(Strict):
    PARSE = "error parsing request, MAYBE invalid body format. "

    def test_command_envs_number_is_a_go_type_error(self):
        r = self.x("POST", "/command", {"command": "true", "envs": {"A": 1}})
        self.err(r, 400, "INVALID_REQUEST_BODY", self.PARSE + "json: cannot unmarshal number into "
                 "Go struct field RunCommandRequest.envs of type string")

    def test_command_float_timeout_and_negative_uid_are_go_type_errors(self):
        r = self.x("POST", "/command", {"command": "true", "timeout": 1.5})
        self.err(r, 400, "INVALID_REQUEST_BODY", self.PARSE + "json: cannot unmarshal number 1.5 "
                 "into Go struct field RunCommandRequest.timeout of type int64")
        r = self.x("POST", "/command", {"command": "true", "uid": -1})
        self.err(r, 400, "INVALID_REQUEST_BODY", self.PARSE + "json: cannot unmarshal number -1 "
                 "into Go struct field RunCommandRequest.uid of type uint32")

    def test_permission_mode_string_is_a_go_type_error(self):
        d = self.sbdir()
        r = self.x("POST", "/files/permissions", {d: {"mode": "755"}})
        self.err(r, 400, "INVALID_REQUEST_BODY", self.PARSE + "json: cannot unmarshal string into "
                 "Go struct field Permission.mode of type int")

    def test_upload_metadata_mode_string_names_the_embedded_struct(self):
        r = self.put(self.sbdir() + "/f", "x", mode="644")
        self.err(r, 400, "INVALID_FILE_METADATA", "invalid metadata format. json: cannot unmarshal "
                 "string into Go struct field FileMetadata.Permission.mode of type int")

    def test_upload_metadata_is_one_json_value(self):
        body, ct = multipart([("metadata", "m", '{"path": "/tmp/x"} trailing'), ("file", "f", "x")])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.err(r, 400, "INVALID_FILE_METADATA", "invalid metadata format. invalid character 't' "
                 "after top-level value")

    def test_syntax_errors_read_as_go_decoder_errors(self):
        for body, detail in ((b"oops", "invalid character 'o' looking for beginning of value"),
                             (b"", "EOF"), (b'{"command": "ls"', "unexpected EOF"),
                             (b'{"command" "ls"}', "invalid character '\"' after object key"),
                             (b'{"command": tru}', "invalid character '}' in literal true "
                                                   "(expecting 'e')")):
            r = self.x("POST", "/command", body, {"Content-Type": "application/json"})
            self.err(r, 400, "INVALID_REQUEST_BODY", self.PARSE + detail)

    def test_wrong_top_level_type_names_the_go_type(self):
        r = self.x("POST", "/files/mv", {"src": "/a", "dest": "/b"})
        self.err(r, 400, "INVALID_REQUEST_BODY", self.PARSE + "json: cannot unmarshal object into "
                 "Go value of type []model.RenameFileItem")

    def test_command_negative_timeout_fails_the_gte_tag(self):
        r = self.x("POST", "/command", {"command": "true", "timeout": -5})
        self.err(r, 400, "INVALID_REQUEST_BODY", "invalid request, validation error Key: "
                 "'RunCommandRequest.TimeoutMs' Error:Field validation for 'TimeoutMs' failed on "
                 "the 'gte' tag")

    def test_command_missing_cwd_names_the_stat_error(self):
        r = self.x("POST", "/command", {"command": "true", "cwd": "/no/such/dir"})
        self.err(r, 400, "INVALID_REQUEST_BODY", "invalid request, validation error working "
                 "directory does not exist: /no/such/dir: stat /no/such/dir: no such file or "
                 "directory")

    def run_out(self, body):
        r = self.x("POST", "/command", body)
        self.assertEqual(r.status, 200, r.text)
        return "\n".join(e["text"] for e in tds.events(r.body) if e.get("type") == "stdout")

    @unittest.skipUnless(os.getuid() == 0, "needs root to switch users")
    def test_command_credentials_as_execd_builds_them(self):
        import pwd
        # an unknown uid runs with gid 0 (Go's zero Credential.Gid)
        self.assertEqual(self.run_out({"command": "id -u; id -g", "uid": 54321}), "54321\n0")
        nobody = pwd.getpwnam("nobody")
        # a known user keeps its groups when gid is given as well
        out = self.run_out({"command": "id -g; id -G", "uid": nobody.pw_uid, "gid": 4242})
        gid, groups = out.split("\n")
        self.assertEqual(gid, "4242")
        self.assertIn(str(nobody.pw_gid), groups.split())

    def test_session_run_uses_its_own_error_prefixes(self):
        sid = self.x("POST", "/session", b"").json()["session_id"]
        r = self.x("POST", "/session/%s/run" % sid, b"[", {"Content-Type": "application/json"})
        self.err(r, 400, "INVALID_REQUEST_BODY", "error parsing request. unexpected EOF")
        r = self.x("POST", "/session/%s/run" % sid, {"timeout": -1})
        self.err(r, 400, "INVALID_REQUEST_BODY", "invalid request. Key: 'RunInSessionRequest.Command' "
                 "Error:Field validation for 'Command' failed on the 'required' tag\nKey: "
                 "'RunInSessionRequest.Timeout' Error:Field validation for 'Timeout' failed on the "
                 "'gte' tag")
        self.x("DELETE", "/session/" + sid)

    def test_code_context_without_language_finds_no_kernel(self):
        r = self.x("POST", "/code/context", {})
        self.err(r, 500, "RUNTIME_ERROR", "error creating code context. no kernel specs found")

    def test_code_runs_on_the_named_context_whatever_the_language(self):
        cid = self.x("POST", "/code/context", {"language": "bash"}).json()["id"]
        r = self.x("POST", "/code", {"code": "echo $((6*7))", "context": {"id": cid,
                                                                         "language": "python"}})
        self.assertEqual(r.status, 200)
        out = [e["text"] for e in tds.events(r.body) if e.get("type") == "stdout"]
        self.assertEqual("".join(out).strip(), "42")
        r = self.x("POST", "/code", {"code": "1", "context": {"language": "java"}})
        self.err(r, 500, "RUNTIME_ERROR", "error running codes no kernel specs found")
        self.x("DELETE", "/code/contexts/" + cid)

    def test_listing_contexts_of_command_is_unsupported(self):
        r = self.x("GET", "/code/contexts?language=command")
        self.err(r, 500, "RUNTIME_ERROR", "unsupported language context operation: command")


# ====================================================================== execd: files

class TestExecdFiles(Strict):
    def test_search_double_star_matches_top_level_files_in_walk_order(self):
        d = self.sbdir()
        for p in ("/b/c.txt", "/a.txt", "/d.txt", "/b/e.md", "/b/sub/f.txt"):
            self.assertEqual(self.put(d + p, "x").status, 200)
        r = self.x("GET", "/files/search?path=%s&pattern=**/*.txt" % d)
        self.assertEqual(r.status, 200)
        self.assertEqual([i["path"] for i in r.json()],
                         [d + "/a.txt", d + "/b/c.txt", d + "/b/sub/f.txt", d + "/d.txt"])
        r = self.x("GET", "/files/search?path=%s&pattern=b/*.txt" % d)  # base names only
        self.assertEqual(r.json(), [])
        r = self.x("GET", "/files/search?path=%s&pattern=!(*.txt)" % d)
        self.assertEqual([i["path"] for i in r.json()], [d + "/b/e.md"])

    def test_search_malformed_pattern_is_500_once_a_file_is_seen(self):
        d = self.sbdir()
        self.assertEqual(self.x("GET", "/files/search?path=%s&pattern=%%5B" % d).json(), [])
        self.put(d + "/a", "x")
        r = self.x("GET", "/files/search?path=%s&pattern=%%5B" % d)
        self.err(r, 500, "RUNTIME_ERROR", "error searching files. invalid pattern [: syntax error "
                 "in pattern")

    def test_search_missing_root_is_a_stat_error(self):
        r = self.x("GET", "/files/search?path=/no/such")
        self.err(r, 404, "FILE_NOT_FOUND", "file not found. stat /no/such: no such file or directory")

    def test_download_missing_file_is_an_open_error(self):
        r = self.x("GET", "/files/download?path=/no/such")
        self.err(r, 404, "FILE_NOT_FOUND", "file not found. open /no/such: no such file or directory")

    def test_download_lines_offset_and_limit(self):
        f = self.sbdir() + "/lines.txt"
        self.put(f, "one\r\ntwo\n\nfour\nfive")
        r = self.x("GET", "/files/download?path=%s&offset=2&limit=3" % f)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.h("Content-Type"), "text/plain; charset=utf-8")
        self.assertIsNone(r.h("Content-Disposition"))
        self.assertEqual(r.body, b"two\n\nfour")
        self.assertEqual(self.x("GET", "/files/download?path=%s&offset=4" % f).body, b"four\nfive")
        self.assertEqual(self.x("GET", "/files/download?path=%s&limit=1" % f).body, b"one")
        self.assertEqual(self.x("GET", "/files/download?path=%s&offset=9" % f).body, b"")

    def test_download_lines_exclusive_with_range(self):
        f = self.sbdir() + "/l.txt"
        self.put(f, "a\nb\n")
        r = self.x("GET", "/files/download?path=%s&offset=1" % f, headers={"Range": "bytes=0-1"})
        self.err(r, 400, "INVALID_REQUEST_BODY", "line-based reading (offset/limit) and byte range "
                 "(Range header) are mutually exclusive")

    def test_download_lines_checks_numbers_after_opening(self):
        r = self.x("GET", "/files/download?path=/no/such&offset=0")
        self.assertEqual(r.status, 404)
        f = self.sbdir() + "/l.txt"
        self.put(f, "a\n")
        for q, msg in (("offset=0", "invalid query parameter 'offset': 0"),
                       ("offset=x", "invalid query parameter 'offset': x"),
                       ("offset=1&limit=-2", "invalid query parameter 'limit': -2")):
            r = self.x("GET", "/files/download?path=%s&%s" % (f, q))
            self.err(r, 400, "INVALID_REQUEST_BODY", msg)

    def test_mkdir_on_existing_directory_keeps_mode(self):
        d = self.sbdir() + "/keep"
        self.assertEqual(self.x("POST", "/directories", {d: {"mode": 700}}).status, 200)
        self.assertEqual(self.x("POST", "/directories", {d: {"mode": 755}}).status, 200)
        self.assertEqual(self.info(d)["mode"], 700)

    def test_unknown_owner_or_group_is_an_error(self):
        d = self.sbdir()
        r = self.x("POST", "/directories", {d + "/n": {"owner": "no-such-user-osb"}})
        self.err(r, 500, "RUNTIME_ERROR", "error accessing file: failed to lookup user "
                 "no-such-user-osb: user: unknown user no-such-user-osb")
        r = self.x("POST", "/files/permissions", {d: {"group": "no-such-group-osb"}})
        self.err(r, 500, "RUNTIME_ERROR", "error changing permissions for %s. failed to lookup "
                 "group no-such-group-osb: group: unknown group no-such-group-osb" % d)
        r = self.put(d + "/f", "x", owner="no-such-user-osb")
        self.err(r, 500, "RUNTIME_ERROR", "error chmoding file %s/f. failed to lookup user "
                 "no-such-user-osb: user: unknown user no-such-user-osb" % d)

    def test_permissions_without_mode_owner_group_do_nothing(self):
        # no chmod and no chown: even a missing file is fine
        self.assertEqual(self.x("POST", "/files/permissions", {"/no/such/file": {}}).status, 200)
        r = self.x("POST", "/files/permissions", {"/no/such/file": {"mode": 644}})
        self.err(r, 500, "RUNTIME_ERROR", "error changing permissions for /no/such/file. chmod "
                 "/no/such/file: no such file or directory")

    def test_multipart_part_with_empty_filename_is_not_a_file(self):
        body, ct = multipart([("metadata", "", '{"path": "/tmp/x"}'), ("file", "f", "x")])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.err(r, 400, "INVALID_FILE_METADATA", "metadata file is missing")

    def test_mv_empty_dest_is_the_working_directory(self):
        f = self.sbdir() + "/src"
        self.put(f, "x")
        r = self.x("POST", "/files/mv", [{"src": f, "dest": ""}])
        self.err(r, 500, "RUNTIME_ERROR", "error accessing file: destination path already exists: ")

    def test_mv_missing_source_is_a_stat_error(self):
        r = self.x("POST", "/files/mv", [{"src": "/no/such", "dest": "/tmp/x"}])
        self.err(r, 404, "FILE_NOT_FOUND", "file not found. source path not found: /no/such: "
                 "stat /no/such: no such file or directory")

    def test_replace_missing_file_is_a_stat_error(self):
        r = self.x("POST", "/files/replace", {"/no/such": {"old": "a", "new": "b"}})
        self.err(r, 404, "FILE_NOT_FOUND", "file not found. stat /no/such: no such file or directory")

    def test_list_directory_messages_name_the_absolute_path(self):
        d = self.sbdir()
        self.put(d + "/f", "x")
        r = self.x("GET", "/directories/list?path=%s//./f" % d)
        self.err(r, 400, "INVALID_REQUEST_BODY", "path is not a directory: %s/f" % d)
        r = self.x("GET", "/directories/list?path=%s/none" % d)
        self.err(r, 404, "FILE_NOT_FOUND", "file not found. lstat %s/none: no such file or "
                 "directory" % d)

    def test_undefined_environment_variable_in_path(self):
        r = self.x("GET", "/files/info?path=$OSB_NOPE_B/$OSB_NOPE_A")
        self.err(r, 500, "RUNTIME_ERROR", "error accessing file: invalid path $OSB_NOPE_B/$OSB_NOPE_A: "
                 "path references undefined environment variables: OSB_NOPE_A,OSB_NOPE_B")

    def test_logs_cursor_past_the_end_stays_put(self):
        evs = tds.events(self.x("POST", "/command", {"command": "echo hi", "background": True}).body)
        cid = [e for e in evs if e.get("type") == "init"][0]["text"]
        deadline = time.time() + 20
        while self.x("GET", "/command/status/" + cid).json()["running"] and time.time() < deadline:
            time.sleep(0.05)
        r = self.x("GET", "/command/%s/logs?cursor=1000" % cid)
        self.assertEqual((r.status, r.body, r.h("EXECD-COMMANDS-TAIL-CURSOR")), (200, b"", "1000"))
        r = self.x("GET", "/command/%s/logs?cursor=-1" % cid)
        self.err(r, 400, "INVALID_REQUEST_BODY", "error seek file: seek /tmp/%s.output: invalid "
                 "argument" % cid)

    def test_proxy_errors_are_go_http_errors(self):
        r = self.x("GET", "/proxy/")
        self.assertEqual((r.status, r.body, r.h("X-Content-Type-Options")),
                         (400, b"port is required\n", "nosniff"))
        r = self.x("GET", "/proxy/1/x")  # nothing listens on port 1
        self.assertEqual((r.status, r.body), (502, b"Bad Gateway\n"))
        r = self.x("GET", "/proxy")  # not the proxy: an unknown route
        self.assertEqual((r.status, r.body), (404, b"404 page not found"))

    def test_pty_create_parse_error_wording(self):
        r = self.x("POST", "/pty", {"cwd": 5})
        self.err(r, 400, "INVALID_REQUEST_BODY", "error parsing request: json: cannot unmarshal "
                 "number into Go struct field CreatePTYSessionRequest.cwd of type string")

    def test_execd_sends_no_request_id(self):
        r = self.x("GET", "/ping", headers={"X-Request-ID": "abc"})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.h("X-Request-ID"))


# ====================================================================== lifecycle

class TestLifecycleStrict(Strict):
    BODY = {"image": {"uri": "python:3.11"}, "entrypoint": ["tail", "-f", "/dev/null"],
            "resourceLimits": {}}

    def raw_create(self, headers):
        h = {"OPEN-SANDBOX-API-KEY": KEY}
        h.update(headers)
        return request("POST", self.srv.domain + "/v1/sandboxes", json.dumps(self.BODY), h)

    def test_json_body_with_text_content_type_is_not_parsed(self):
        r = self.raw_create({"Content-Type": "text/plain"})
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json(), {"detail": [{
            "type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": json.dumps(self.BODY)}]})

    def test_json_body_without_content_type_is_not_parsed(self):
        r = self.raw_create({})
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["type"], "model_attributes_type")

    def test_json_suffix_content_type_is_json(self):
        r = self.raw_create({"Content-Type": "application/vnd.osb+json; charset=utf-8"})
        self.assertEqual(r.status, 202, r.text)
        self.quiet_delete(self.srv.domain, r.json()["id"])

    def test_nested_non_object_is_model_attributes_type(self):
        r = self.api("POST", "/v1/sandboxes", dict(self.BODY, image="python:3.11"))
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"], [{
            "type": "model_attributes_type", "loc": ["body", "image"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": "python:3.11"}])

    def test_query_numbers_and_booleans_are_pydantic_lax(self):
        r = self.api("GET", "/v1/sandboxes?page=1.0&pageSize=%202%20")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual((r.json()["pagination"]["page"], r.json()["pagination"]["pageSize"]), (1, 2))
        r = self.api("GET", "/v1/sandboxes/x/endpoints/44772?use_server_proxy=%20true")
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"], [{
            "type": "bool_parsing", "loc": ["query", "use_server_proxy"],
            "msg": "Input should be a valid boolean, unable to interpret input", "input": " true"}])
        r = self.api("POST", "/v1/sandboxes", dict(self.BODY, timeout=True))  # True is 1
        self.assertEqual(r.json()["detail"][0]["type"], "greater_than_equal")

    def test_metadata_filter_with_empty_segment_is_refused(self):
        r = self.api("GET", "/v1/sandboxes?metadata=a%3D1%26%26b%3D2")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"code": "INVALID_METADATA_FORMAT",
                                    "message": "Invalid metadata format: bad query field: ''"})

    def test_endpoint_expires_is_refused_before_the_sandbox_lookup(self):
        r = self.api("GET", "/v1/sandboxes/no-such-sandbox/endpoints/44772?expires=%d"
                     % (time.time() + 600))
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"code": "SANDBOX::API_NOT_SUPPORTED", "message":
                                    "Signed routes (expires parameter) are not supported when "
                                    "runtime.type='docker'. Use the Kubernetes runtime for signed "
                                    "routes."})

    def test_endpoint_port_out_of_range_message(self):
        r = self.api("GET", "/v1/sandboxes/no-such-sandbox/endpoints/70000")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"code": "DOCKER::INVALID_PORT",
                                    "message": "Port must be between 1 and 65535."})

    def test_network_policy_actions_are_any_string(self):
        sid = self.create(networkPolicy={"defaultAction": "ALLOW", "egress": [
            {"action": "Deny", "target": "a.com"}]})
        self.assertTrue(sid)
        r = self.api("POST", "/v1/sandboxes", dict(self.BODY, networkPolicy={
            "egress": [{"action": "allow", "target": ""}]}))
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"], [{
            "type": "string_too_short", "loc": ["body", "networkPolicy", "egress", 0, "target"],
            "msg": "String should have at least 1 character", "input": "",
            "ctx": {"min_length": 1}}])

    def value_error(self, body):
        r = self.api("POST", "/v1/sandboxes", body)
        self.assertEqual(r.status, 422, r.text)
        d = r.json()["detail"]
        self.assertEqual((len(d), d[0]["type"], d[0]["loc"]), (1, "value_error", ["body"]))
        return d[0]["msg"]

    def test_create_model_validator_order_and_wording(self):
        b = dict(self.BODY)
        self.assertEqual(self.value_error(dict(b, credentialProxy={"enabled": True}, image=None)),
                         "Value error, credentialProxy.enabled requires networkPolicy.")
        self.assertEqual(self.value_error({"image": b["image"], "resourceLimits": {}}),
                         "Value error, Entrypoint is required when image is provided.")
        self.assertEqual(self.value_error({"image": b["image"], "entrypoint": ["x"]}),
                         "Value error, resourceLimits is required when poolRef is not provided.")
        self.assertEqual(self.value_error(dict(b, snapshotId="s", extensions={"poolRef": "p"})),
                         "Value error, snapshotId cannot be used together with poolRef.")
        sid = self.create(credentialProxy={"enabled": True}, networkPolicy={})  # {} is a policy
        self.assertTrue(sid)

    def semantic(self, body):
        r = self.api("POST", "/v1/sandboxes", body)
        return r.status, r.json()

    def test_create_checks_in_server_order_with_server_wording(self):
        b = dict(self.BODY)
        self.assertEqual(self.semantic(dict(b, extensions={"poolRef": "p"})), (400, {
            "code": "SANDBOX::UNSUPPORTED_POOL_REF", "message": "poolRef is not supported by the "
            "Docker provider. Use Kubernetes BatchSandbox provider instead."}))
        # extensions are validated before poolRef
        self.assertEqual(self.semantic(dict(b, extensions={"poolRef": "p",
                                                           "access.renew.extend.seconds": "x"})), (
            400, {"code": "SANDBOX::INVALID_PARAMETER", "message":
                  'Invalid extensions["access.renew.extend.seconds"]: must be a base-10 integer '
                  "string between 300 and 86400, got 'x'."}))
        self.assertEqual(self.semantic({"snapshotId": "nope", "resourceLimits": {}}), (404, {
            "code": "SNAPSHOT::NOT_FOUND", "message": "Snapshot nope not found"}))
        self.assertEqual(self.semantic(dict(b, platform={"os": "mac", "arch": "amd64"})), (400, {
            "code": "SANDBOX::INVALID_PARAMETER",
            "message": "Unsupported platform.os 'mac'. Supported values: ['linux', 'windows']."}))
        self.assertEqual(self.semantic(dict(b, secureAccess=True)), (400, {
            "code": "SANDBOX::INVALID_PARAMETER", "message": "secureAccess is not supported when "
            "runtime.type='docker'. Use the Kubernetes runtime to create secured sandboxes."}))
        sid = self.create(platform={"os": " Linux", "arch": "AMD64"},
                          extensions={"access.renew.extend.seconds": " 600"})
        self.assertEqual(self.api("GET", "/v1/sandboxes/" + sid).json()["platform"],
                         {"os": "linux", "arch": "amd64"})

    def test_pause_and_resume_conflict_messages(self):
        sid = self.create()
        r = self.api("POST", "/v1/sandboxes/%s/resume" % sid)
        self.assertEqual((r.status, r.json()), (409, {"code": "DOCKER::SANDBOX_NOT_PAUSED",
                                                      "message": "Sandbox is not in a paused state."}))
        self.assertEqual(self.api("POST", "/v1/sandboxes/%s/pause" % sid).status, 202)
        r = self.api("POST", "/v1/sandboxes/%s/pause" % sid)
        self.assertEqual((r.status, r.json()), (409, {"code": "DOCKER::SANDBOX_NOT_RUNNING",
                                                      "message": "Sandbox is not in a running state."}))

    def test_renew_takes_unix_time_and_refuses_booleans(self):
        sid = self.create(timeout=600)
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid,
                     {"expiresAt": str(int(time.time()) + 3600)})
        self.assertEqual(r.status, 200, r.text)
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid, {"expiresAt": True})
        self.assertEqual((r.status, r.json()["detail"]), (422, [{
            "type": "datetime_type", "loc": ["body", "expiresAt"],
            "msg": "Input should be a valid datetime", "input": True}]))

    def test_snapshot_of_a_paused_sandbox_message(self):
        sid = self.create()
        self.assertEqual(self.api("POST", "/v1/sandboxes/%s/pause" % sid).status, 202)
        r = self.api("POST", "/v1/sandboxes/%s/snapshots" % sid, {})
        self.assertEqual((r.status, r.json()), (409, {
            "code": "SNAPSHOT::INVALID_SOURCE_STATE",
            "message": "Snapshot can only be created from a Running sandbox."}))

    def test_snapshot_messages_have_no_final_period(self):
        r = self.api("GET", "/v1/snapshots/no-such-snapshot")
        self.assertEqual((r.status, r.json()), (404, {"code": "SNAPSHOT::NOT_FOUND",
                                                      "message": "Snapshot no-such-snapshot not found"}))
        sid = self.create()
        snap = self.api("POST", "/v1/sandboxes/%s/snapshots" % sid, {}).json()["id"]
        r = self.api("DELETE", "/v1/snapshots/" + snap)  # still Creating
        self.assertEqual((r.status, r.json()), (409, {
            "code": "SNAPSHOT::INVALID_STATE",
            "message": "Snapshot %s is still being created and cannot be deleted" % snap}))

    def test_renew_checks_the_time_before_the_expiration_mode(self):
        sid = self.create(timeout=None)
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid,
                     {"expiresAt": "2001-01-01T00:00:00Z"})
        self.assertEqual((r.status, r.json()), (400, {"code": "DOCKER::INVALID_EXPIRATION", "message":
                                                      "New expiration time must be in the future."}))
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid,
                     {"expiresAt": "2999-01-01T00:00:00Z"})
        self.assertEqual((r.status, r.json()), (409, {
            "code": "DOCKER::INVALID_EXPIRATION",
            "message": "Sandbox %s does not have automatic expiration enabled." % sid}))

    def test_metadata_patch_label_messages(self):
        sid = self.create()
        r = self.api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {"opensandbox.io/x": None})
        self.assertEqual((r.status, r.json()), (400, {
            "code": "INVALID_METADATA_LABEL",
            "message": "Metadata key 'opensandbox.io/x' is reserved (opensandbox.io/ prefix)."}))
        r = self.api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {"team": "-bad-"})
        self.assertEqual((r.status, r.json()), (400, {
            "code": "SANDBOX::INVALID_METADATA_LABEL",
            "message": "Metadata value '-bad-' is invalid: must be 63 characters or less, start/end "
                       "with an alphanumeric character, and contain only alphanumeric, '-', '_', "
                       "or '.' characters."}))

    def test_egress_bodies_are_go_json(self):
        sid = self.create(networkPolicy={"defaultAction": "allow", "egress": []})
        ep = self.endpoint(sid, 18080)
        url, h = ep["endpoint"] + "/policy", ep["headers"]
        r = request("POST", url, "oops", h)
        self.assertEqual((r.status, r.text), (400, "invalid policy: invalid character 'o' looking "
                                                   "for beginning of value\n"))
        r = request("PATCH", url, [{"action": 1, "target": "a.com"}], h)
        self.assertEqual((r.status, r.text), (400, "invalid patch rules: json: cannot unmarshal "
                                                   "number into Go struct field EgressRule.action "
                                                   "of type string\n"))
        r = request("DELETE", url, "[1]", h)
        self.assertEqual((r.status, r.text), (400, "invalid delete targets: json: cannot unmarshal "
                                                   "number into Go value of type string\n"))
        # "{}" is parsed (only an empty body is the reset with a reason)
        r = request("POST", url, "{}", h)
        self.assertEqual(r.json(), {"status": "ok", "mode": "deny_all", "enforcementMode": "dns"})

    def test_egress_active_vault_route_checks_the_method_first(self):
        sid = self.create(networkPolicy={"defaultAction": "allow"})
        ep = self.endpoint(sid, 18080)["endpoint"]
        r = request("POST", ep + "/credential-vault/_active", b"")  # no token either
        self.assertEqual((r.status, r.text, r.h("Allow")), (405, "method not allowed\n", "GET"))
        r = request("GET", ep + "/credential-vault/_active")
        self.assertEqual((r.status, r.text), (403, "forbidden\n"))

    def test_egress_takes_any_default_action(self):
        sid = self.create(networkPolicy={"defaultAction": "deny", "egress": []})
        ep = self.endpoint(sid, 18080)
        r = request("POST", ep["endpoint"] + "/policy", {"defaultAction": "Bogus"}, ep["headers"])
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json(), {"status": "ok", "mode": "enforcing", "enforcementMode": "dns"})


if __name__ == "__main__":
    unittest.main()
