"""Both packages import and both CLIs answer --help."""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path


def test_packages_import() -> None:
    """Every module of both packages imports here, without a camera or GPIO."""
    import edge
    import trainer

    names = [module.name for package in (edge, trainer)
             for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
             if not module.name.endswith(".__main__")]  # those run the CLI
    assert {"edge.cli", "edge.app", "edge.sources.picamera", "trainer.cli"} <= set(names)
    for name in names:
        importlib.import_module(name)


def test_importing_the_packages_loads_no_vendor_library() -> None:
    """Vendor libraries load inside the backends that use them, never on `import edge`."""
    vendors = {"cv2", "numpy", "tensorflow", "keras", "ai_edge_litert", "paho", "gpiozero",
               "picamera2", "pydantic"}
    code = f"import sys, edge, trainer; print(sorted({{m.split('.')[0] for m in sys.modules}}"\
           f" & {vendors!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_edge_cli_help() -> None:
    out = subprocess.run([sys.executable, "-m", "edge", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "detect" in out and "check-config" in out


def test_trainer_cli_help() -> None:
    out = subprocess.run([sys.executable, "-m", "trainer", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "--data" in out and "--limit" in out


def test_scripts_use_the_installed_packages() -> None:
    """Scripts and benchmarks import edge and trainer as installed (`pip install -e .`),
    never by editing sys.path; scripts/ stays a small toolbox."""
    repo = Path(__file__).resolve().parent.parent
    tools = [*(repo / "scripts").glob("*.py"), *(repo / "benchmarks").glob("*.py")]
    assert not [t.name for t in tools if "sys.path" in t.read_text()]
    assert len(list((repo / "scripts").glob("*.py"))) <= 5
