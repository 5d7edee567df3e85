"""--qatech-artifacts: the media of remote cases that did not pass, saved where nothing a server
sends can move them, with no credential, within bounds; and shown to CI tools and people."""

from __future__ import annotations

import html
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_qatech.cli import main
from pytest_qatech.core import artifacts
from pytest_qatech.core.models import Link, Outcome, RemoteCase
from pytest_qatech.simulator import (
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    DEFAULT_TOKEN,
    Answer,
    Simulator,
    environment,
)

from .helpers import BOUND, FAST, HeldServer, demo_by_requests, mixed_run, run_session

FAILED = RemoteCase("../../etc/passwd", Outcome.FAILED, "x")


@pytest.mark.parametrize(
    ("name", "safe"),
    [("../../etc/passwd", "etc_passwd"), ("..", "_"), ("a/b\\c\x00d", "a_b_c_d"), ("", "_")],
)
def test_no_remote_name_can_leave_the_directory(tmp_path: Path, name: str, safe: str) -> None:
    assert artifacts.safe_segment(name) == safe
    folder = artifacts.case_dir(tmp_path, "qatech", "../run", name)
    assert folder.resolve().is_relative_to(tmp_path.resolve())
    assert folder.name == safe


def test_file_names_say_whose_and_what_each_file_is_and_never_twice() -> None:
    links = [
        Link("screenshot", "https://m.example/a.PNG?X-Amz-Signature=abc"),
        Link("screenshot", "https://m.example/b.png"),
        Link("recording", "https://m.example/c"),
        Link("video", "https://m.example/../evil.sh.mp4"),
    ]
    taken: set[str] = set()
    names = artifacts.file_names("Pay / now", links, taken)
    assert names == [
        "Pay_now-screenshot.png",
        "Pay_now-screenshot-2.png",
        "Pay_now-recording",
        "Pay_now-video.mp4",
    ]
    # Another case whose name comes out the same, in this run or another: never the same name,
    # nor one a case-insensitive file system takes for it.
    again = artifacts.file_names("Pay: NOW", [Link("screenshot", "https://m.example/x.png")], taken)
    assert again == ["Pay_NOW-screenshot-3.png"]


def test_a_screenshot_is_the_first_attachment() -> None:
    links = [Link("recording", "r"), Link("video", "v"), Link("screenshot", "s")]
    assert [link.kind for link in artifacts.shown_first(links)] == [
        "screenshot",
        "recording",
        "video",
    ]


def test_attachments_are_relative_to_the_project_folder(tmp_path: Path) -> None:
    inside = tmp_path / "project" / "artifacts" / "a.png"
    outside = tmp_path / "elsewhere" / "b.png"
    saved = [artifacts.Saved(Link("screenshot", "u"), path) for path in (inside, outside)]
    lines = artifacts.attachment_lines(saved, tmp_path / "project")
    assert lines == f"[[ATTACHMENT|artifacts/a.png]]\n[[ATTACHMENT|{outside}]]\n"
    assert artifacts.project_folder({"CI_PROJECT_DIR": "/builds/p"}, tmp_path) == Path("/builds/p")
    assert artifacts.project_folder({}, tmp_path) == tmp_path


def store_for(
    simulator: Simulator, root: Path, limits: tuple[int, int] = (1000, 10_000)
) -> artifacts.ArtifactStore:
    return artifacts.ArtifactStore(root, limits, time.monotonic() + 30)


def keep(store: artifacts.ArtifactStore, *urls: str) -> list[artifacts.Saved]:
    links = [Link("screenshot", url) for url in urls]
    pending = store.keep("qatech", "abc123", FAILED, links)
    return artifacts.results(pending, store.deadline)


def test_sizes_are_bounded_a_file_and_in_all_and_nothing_partial_is_left(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.media_answers["/media/big.png"] = Answer(200, b"x" * 5000)
    simulator.media_answers["/media/fits.png"] = Answer(200, b"x" * 800)
    store = store_for(simulator, tmp_path, (1000, 1500))
    big, *fits = keep(
        store, f"{simulator.url}/media/big.png", f"{simulator.url}/media/fits.png",
        f"{simulator.url}/media/fits.png",
    )  # fmt: skip
    store.close()
    assert big.path is None
    assert big.problem == "5,000 bytes, more than the 1,000 allowed"
    # Both fit a file's limit; whichever is saved first leaves too little for the other.
    (kept,) = [entry for entry in fits if entry.path is not None]
    (refused,) = [entry for entry in fits if entry.path is None]
    assert kept.path is not None
    assert kept.path.read_bytes() == b"x" * 800
    assert refused.problem == "the limit on the artifacts' total size is reached"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [kept.path]


def test_a_download_that_fails_says_why_and_one_past_the_deadline_is_not_tried(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.media_answers["/media/gone.png"] = Answer(403, "<Error>Request has expired</Error>")
    store = store_for(simulator, tmp_path)
    (gone,) = keep(store, f"{simulator.url}/media/gone.png")
    assert gone.problem == "HTTP 403 Forbidden"
    store.deadline = time.monotonic() - 1
    # The download itself, however long it waits to start, sends nothing past the deadline.
    ((_, download),) = store.keep(
        "qatech", "abc123", FAILED, [Link("screenshot", f"{simulator.url}/media/x.png")]
    )
    assert download.result(timeout=30).problem == "no time left before the wait's timeout"
    (late,) = keep(store, f"{simulator.url}/media/y.png")
    store.close()
    assert late.problem == "no time left before the wait's timeout"
    assert len(simulator.requests) == 1
    # Nothing is left behind: no file, and no folder made for it.
    assert list(tmp_path.rglob("*")) == []


def test_media_are_saved_four_at_a_time(tmp_path: Path) -> None:
    before = set(threading.enumerate())

    def downloading() -> list[threading.Thread]:
        return [
            t
            for t in threading.enumerate()
            if t.name.startswith("qatech-artifact") and t not in before
        ]

    store = artifacts.ArtifactStore(tmp_path, (1000, 10_000), time.monotonic() + BOUND)
    with HeldServer() as media:
        links = [Link("screenshot", f"{media.url}/{n}.png") for n in range(7)]
        pending = store.keep("qatech", "abc123", FAILED, links)
        with media.changed:
            assert media.changed.wait_for(lambda: media.arrived >= 4, BOUND)
        # A pool starts a thread per download given to it, up to its size: with every
        # download held, that is how many go at once.
        assert len(downloading()) == 4
        media.released.set()
        saved = store.results(pending)
    assert [entry.problem for entry in saved] == [None] * 7
    assert media.arrived == 7
    threads = downloading()
    store.close()
    for thread in threads:
        thread.join(BOUND)
    assert downloading() == []


def test_media_go_only_over_https_or_to_this_machine(tmp_path: Path) -> None:
    store = artifacts.ArtifactStore(tmp_path, (1000, 1000), time.monotonic() + 5)
    (plain,) = keep(store, "http://media.example/a.png")
    store.close()
    assert plain.problem == "http://media.example/a.png is neither https nor on this machine"


def test_no_netrc_entry_goes_with_a_media_request(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests sends a .netrc entry for the host unless told not to: a media host gets none.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    simulator.media_answers["/media/a.png"] = Answer(200, b"png")
    store = store_for(simulator, tmp_path / "saved")
    (saved,) = keep(store, f"{simulator.url}/media/a.png")
    store.close()
    assert saved.problem is None
    (request,) = [r for r in simulator.requests if r.path == "/media/a.png"]
    assert "authorization" not in request.headers


def test_a_redirect_elsewhere_in_plain_http_is_not_followed(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.media_answers["/media/moved.png"] = Answer(
        302, None, {"Location": "http://media.example/x.png?sig=s3cr3t"}
    )
    store = store_for(simulator, tmp_path)
    (moved,) = keep(store, f"{simulator.url}/media/moved.png")
    store.close()
    # The signature of a pre-signed link stays out of messages.
    assert moved.problem == "http://media.example/x.png is neither https nor on this machine"


def test_a_session_saves_the_media_of_what_did_not_pass_and_shows_them(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Simulator(demo_by_requests(), media=True) as simulator:
        for variable, value in environment(simulator.url).items():
            monkeypatch.setenv(variable, value)
        simulator.media_answers["/media/qatech/tc0002.webm"] = Answer(404, None)
        result = run_session(pytester,
            *FAST, "--qatech-run", "abc123", "--autonoma-run", "gch7uesq5h6m9xe2fdq5ddgd",
            "--qatech-artifacts", "artifacts", "--junitxml=report.xml", "--html=report.html",
        )  # fmt: skip
        media = [request for request in simulator.requests if request.path.startswith("/media/")]
    # No credential of any platform reaches the media host.
    assert len(media) == 4
    for request in media:
        assert set(request.headers) & {"authorization", "autonoma-client-id"} == set()
        values = " ".join(request.headers.values())
        for secret in (DEFAULT_TOKEN, AUTONOMA_CLIENT_ID, AUTONOMA_CLIENT_SECRET):
            assert secret not in values
    # A failed download is a warning; the verdicts are what they were.
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*= qatech artifacts not saved =*",
            "qatech: warning: could not save recording of qatech::Checkout with saved card: "
            "HTTP 404 Not Found",
        ]
    )
    root = pytester.path / "artifacts"
    saved = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    # Under the failure, for people; the attachment markup only in JUnit.
    result.stdout.fnmatch_lines(
        [
            "*- qatech artifacts -*",
            "screenshot: artifacts/qatech/abc123/Checkout_with_saved_card/"
            "Checkout_with_saved_card-screenshot.png",
        ]
    )
    assert "[[ATTACHMENT" not in result.stdout.str()
    folder = (
        "autonoma/gch7uesq5h6m9xe2fdq5ddgd/Add_member_to_network_verify_it_can_access_the_listings"
    )
    name = folder.rpartition("/")[2]
    assert saved == [
        f"{folder}/{name}-screenshot.jpeg",
        f"{folder}/{name}-video.mp4",
        "qatech/abc123/Checkout_with_saved_card/Checkout_with_saved_card-screenshot.png",
    ]
    outs = {
        case.get("name"): case.findtext("system-out")
        for case in ET.parse(pytester.path / "report.xml").iter("testcase")
    }
    assert outs["Checkout with saved card"] == (
        "[[ATTACHMENT|artifacts/qatech/abc123/Checkout_with_saved_card/"
        "Checkout_with_saved_card-screenshot.png]]\n"
    )
    assert outs["Login flow test"] is None
    # pytest-html: each saved screenshot inline (an image, of its own type), every file linked.
    images = {
        (extra["content"], extra["mime_type"])
        for extra in html_extras(pytester.path / "report.html")
        if extra["format_type"] == "image"
    }
    # and the agent's steps, in the failure's log as in the terminal.
    page = html.unescape((pytester.path / "report.html").read_text())
    assert "step 6 of 6 (3.0s)" in page
    assert "got: Marked the test as failed" in page
    autonoma = "artifacts/autonoma/gch7uesq5h6m9xe2fdq5ddgd/Add_member_to_network_verify_it_can_"
    assert images == {
        (
            "artifacts/qatech/abc123/Checkout_with_saved_card/"
            "Checkout_with_saved_card-screenshot.png",
            "image/png",
        ),
        (f"{autonoma}access_the_listings/{name}-screenshot.jpeg", "image/jpeg"),
    }


def html_extras(report: Path) -> list[dict[str, str]]:
    """The extras of every test in a pytest-html report, from the data it embeds."""
    blob = re.search(r'data-jsonblob="([^"]*)"', report.read_text())
    assert blob is not None
    tests = json.loads(html.unescape(blob.group(1)))["tests"]
    return [extra for reports in tests.values() for r in reports for extra in r.get("extras", [])]


def test_qatech_junit_saves_and_names_the_media_too(tmp_path: Path) -> None:
    with Simulator([mixed_run()], media=True) as simulator:
        report = tmp_path / "r.xml"
        folder = tmp_path / "artifacts"
        args = ["abc123", *FAST, "--qatech-artifacts", str(folder), "-o", str(report)]
        assert main(args, environment(simulator.url)) == 1
    (checkout,) = (c for c in ET.parse(report).iter("testcase") if c.get("name") == "Checkout")
    out = checkout.findtext("system-out") or ""
    # Outside the folder it was started in: the path as given.
    assert f"[[ATTACHMENT|{folder}/qatech/abc123/Checkout/Checkout-screenshot.png]]\n" in out
    assert (folder / "qatech/abc123/Checkout/Checkout-recording.webm").is_file()


def test_a_spaced_artifacts_folder_outside_the_project_is_a_warning_in_the_header(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # pytest chooses its rootdir before it knows the plugin's options: "--qatech-artifacts DIR"
    # gives it DIR as a test path, and a DIR outside the project moves the rootdir up.
    simulator.add(mixed_run())
    (pytester.path.parent / "outside").mkdir()
    spaced = pytester.runpytest_inprocess(
        "--qatech-run", "abc123", "--qatech-artifacts", "../outside", "--co"
    )
    spaced.stdout.fnmatch_lines(
        ["qatech: warning: write --qatech-artifacts=../outside: with a space, pytest took "
         f"../outside for a test path when it chose its rootdir ({pytester.path.parent})"]
    )  # fmt: skip
    (pytester.path / "art").mkdir()
    for fine in (("--qatech-artifacts=../outside",), ("--qatech-artifacts", "art")):
        result = pytester.runpytest_inprocess("--qatech-run", "abc123", *fine, "--co")
        assert "qatech: warning" not in result.stdout.str()
