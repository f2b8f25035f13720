# SPDX-License-Identifier: MIT
"""The asset build cache: reusing node_modules and pruning old builds."""

import os

from invenio_workflow_records.demo.assets import KEEP_BUILDS, AssetBuild


def _old_build(root, key, age, node_modules=False):
    folder = root / key
    (folder / "static" / "dist").mkdir(parents=True)
    if node_modules:
        (folder / "assets" / "node_modules" / "react").mkdir(parents=True)
    stamp = 1_000_000 + 1_000 * (10 - age)
    os.utime(folder, (stamp, stamp))
    return folder


def test_new_build_takes_node_modules_of_the_newest_build_that_has_them(tmp_path):
    """The newest build with node_modules gives them up; the others keep theirs."""
    _old_build(tmp_path, "newest", 1)
    _old_build(tmp_path, "middle", 2, node_modules=True)
    _old_build(tmp_path, "oldest", 3, node_modules=True)
    build = AssetBuild(root=str(tmp_path), key="current")
    os.makedirs(build.project_folder)

    build._adopt_node_modules()

    assert os.path.isdir(os.path.join(build.project_folder, "node_modules", "react"))
    assert not (tmp_path / "middle" / "assets" / "node_modules").exists()
    assert (tmp_path / "oldest" / "assets" / "node_modules").is_dir()


def test_prune_keeps_the_newest_builds(tmp_path):
    """Only the current build and the newest others, KEEP_BUILDS in all, stay."""
    for age in range(1, 6):
        _old_build(tmp_path, f"old{age}", age)
    build = AssetBuild(root=str(tmp_path), key="current")
    os.makedirs(build.directory)

    build._prune()

    expected = {"current"} | {f"old{age}" for age in range(1, KEEP_BUILDS)}
    assert set(os.listdir(tmp_path)) == expected
