"""NVML probes, hardware classes and the doctor report, with NVML simulated at the ``pynvml`` boundary.

Nothing here sleeps or depends on time: the probes read the simulated NVML's static answers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from types import SimpleNamespace

import pynvml
import pytest
from fake_nvml import FakeGPU, FakeProcess, install_fake_nvml, install_fake_rapl

from energy_badge import gpu_processes, hardware, nvml
from energy_badge.doctor import (
    DoctorGPU,
    NVMLStatus,
    RAPLStatus,
    TokenStatus,
    doctor_report,
    rapl_available,
    rapl_status,
)
from energy_badge.errors import MeterError, UsageError
from energy_badge.hardware import (
    GPUInfo,
    GPUProcess,
    GPUState,
    HardwareInfo,
    cpu_info,
    gpu_process_check,
    gpu_state,
    hardware_class,
    other_gpu_processes,
    probe_hardware,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA H100 PCIe", "H100"),
        ("NVIDIA H100 NVL", "H100"),
        ("NVIDIA H200", "H200"),
        ("NVIDIA H200 NVL", "H200"),
        ("NVIDIA GH200 480GB", "GH200"),
        ("NVIDIA A100-SXM4-40GB", "A100"),
        ("NVIDIA A100 80GB PCIe", "A100"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA L40", "L40"),
        ("Tesla T4", "T4"),
        ("Tesla V100-SXM2-16GB", "V100"),
        ("NVIDIA A10G", "A10G"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA GeForce RTX 4090", "RTX4090"),
        ("NVIDIA GeForce RTX 3080 Ti", "RTX3080TI"),
        ("NVIDIA RTX A6000", "RTXA6000"),
        ("NVIDIA RTX 6000 Ada Generation", "RTX6000ADA"),
        ("NVIDIA B200", "B200"),
        ("Some Unknown Accelerator", None),
        ("", None),
    ],
)
def test_hardware_class(name, expected):
    """Nothing simulated: name normalisation."""
    assert hardware_class(name) == expected


def test_probe_hardware_with_fake_nvml(monkeypatch):
    """Simulated: two GPUs (H100 with persistence on, A100 with persistence unsupported)."""
    a100 = FakeGPU(
        name="NVIDIA A100-SXM4-40GB", memory_total_mib=40960, power_limit_w=400.0, persistence_mode=None
    )
    install_fake_nvml(
        monkeypatch, gpus=[FakeGPU(), a100], driver_version="535.104.05", cuda_driver_version=12020
    )
    info = probe_hardware()
    assert isinstance(info, HardwareInfo)
    assert [g.name for g in info.gpus] == ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"]
    assert info.gpus[1] == GPUInfo(
        index=1,
        name="NVIDIA A100-SXM4-40GB",
        uuid="GPU-fa4e0000-0000-4000-8000-000000000001",
        memory_total_mib=40960,
        power_limit_w=400.0,
        energy_counter=True,
        persistence_mode=None,
        pci_bus_id="00000000:28:00.0",
        mig_mode=None,
        cuda_match="order",  # no CUDA here: CUDA_VISIBLE_DEVICES read in NVML's order
    )
    assert info.driver_version == "535.104.05" and info.cuda_driver_version == "12.2"
    assert info.hardware_class is None  # mixed classes
    assert probe_hardware([1]).hardware_class == "A100"
    assert info.gpu_count == 2 and info.gpu_name == "NVIDIA H100 80GB HBM3"
    assert isinstance(info.gpus, tuple)
    with pytest.raises(UsageError, match="GPU index 2"):
        probe_hardware([2])


def test_probe_hardware_without_nvml_is_cpu_only(monkeypatch):
    """Simulated: nvmlInit fails with NVML_ERROR_LIBRARY_NOT_FOUND."""
    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    info = probe_hardware([0])
    assert info.gpus == () and info.driver_version is None and info.hardware_class is None
    assert info.cpu_count >= 1 and info.gpu_name is None
    assert nvml.nvml_error() == "NVML did not initialise: NVML Shared Library Not Found"


def test_pre_volta_has_no_energy_counter(monkeypatch):
    """Simulated: a Pascal P100 (architecture below Volta, counter NOT_SUPPORTED)."""
    install_fake_nvml(
        monkeypatch, gpus=[FakeGPU(name="Tesla P100-PCIE-16GB", architecture=pynvml.NVML_DEVICE_ARCH_PASCAL)]
    )
    assert probe_hardware().gpus[0].energy_counter is False


def test_gpu_state(monkeypatch):
    """Simulated: one GPU at 42 C, 1410/1593 MHz, drawing 275.5 W."""
    install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(temperature_c=42, sm_clock_mhz=1410, mem_clock_mhz=1593, power_trace=275.5)],
    )
    assert gpu_state([0]) == [
        GPUState(index=0, temperature_c=42, sm_clock_mhz=1410, mem_clock_mhz=1593, power_w=275.5)
    ]


def test_gpu_state_unsupported_field_is_none(monkeypatch):
    """Simulated: the power reading returns NVML_ERROR_NOT_SUPPORTED."""
    fake = install_fake_nvml(monkeypatch)
    fake.fail("nvmlDeviceGetPowerUsage", pynvml.NVML_ERROR_NOT_SUPPORTED)
    assert gpu_state([0])[0].power_w is None


def test_gpu_state_nvml_failure_is_meter_error(monkeypatch):
    """Simulated: the GPU is lost (clock query raises NVML_ERROR_GPU_IS_LOST)."""
    fake = install_fake_nvml(monkeypatch)
    fake.fail("nvmlDeviceGetClockInfo", pynvml.NVML_ERROR_GPU_IS_LOST)
    with pytest.raises(MeterError, match="GPU is lost"):
        gpu_state([0])


def test_other_gpu_processes_excludes_our_own(monkeypatch):
    """Simulated: our own process, a compute process that is also a graphics process (pid 10),
    and a graphics process with unknown memory (pid 20), on GPU 0; nothing on GPU 1."""
    gpus = [
        FakeGPU(
            processes=[
                FakeProcess(pid=os.getpid(), used_memory_mib=3000),
                FakeProcess(pid=10, used_memory_mib=512),
                FakeProcess(pid=10, used_memory_mib=512, kind="graphics"),
                FakeProcess(pid=20, used_memory_mib=None, kind="graphics"),
            ]
        ),
        FakeGPU(),
    ]
    install_fake_nvml(monkeypatch, gpus=gpus)
    assert other_gpu_processes([0, 1]) == [
        GPUProcess(pid=10, used_memory_mib=512, gpu_index=0, kind="compute+graphics"),
        GPUProcess(pid=20, used_memory_mib=None, gpu_index=0, kind="graphics"),
    ]
    assert other_gpu_processes([1]) == []


def test_cuda_visible_devices_mapping(monkeypatch):
    """Simulated: three GPUs. CUDA's rules: indices and GPU-UUID prefixes, stopping at the first
    entry that names no GPU."""
    fake = install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(uuid="GPU-aaaa-1"), FakeGPU(uuid="GPU-bbbb-2"), FakeGPU(uuid="GPU-cccc-3")],
    )
    cases = {
        None: [0, 1, 2],
        "2,0": [2, 0],
        "1,7,2": [1],
        "GPU-cccc,0": [2, 0],
        "GPU-": [],  # ambiguous prefix
        "": [],
        "-1": [],
        "MIG-GPU-aaaa-1/1/0": [],
    }
    for env, expected in cases.items():
        if env is None:
            monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        else:
            monkeypatch.setenv("CUDA_VISIBLE_DEVICES", env)
        pynvml.nvmlInit()
        try:
            assert nvml.visible_nvml_indices(pynvml) == expected, env
        finally:
            pynvml.nvmlShutdown()
    assert fake.init_count == 0
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    assert [g.uuid for g in probe_hardware().gpus] == ["GPU-cccc-3"]


def test_cpu_info_parses_model_name(tmp_path):
    """Simulated: a /proc/cpuinfo file (x86) and one without a model name (Arm server)."""
    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R)  Platinum 8480+\n\nprocessor\t: 1\n")
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd4f\n")
    assert cpu_info(str(x86)) == ("Intel(R) Xeon(R) Platinum 8480+", os.cpu_count())
    assert cpu_info(str(arm))[0] is None
    assert cpu_info(str(tmp_path / "missing"))[0] is None


def test_rapl_status(monkeypatch, tmp_path):
    """Simulated: no RAPL (the fake points Zeus at nothing), then a readable RAPL sysfs tree."""
    install_fake_nvml(monkeypatch)
    assert rapl_available() is False
    assert rapl_status() == RAPLStatus(present=False, readable=False, path=None)
    install_fake_rapl(monkeypatch, tmp_path / "intel-rapl")
    assert rapl_available() is True
    assert rapl_status() == RAPLStatus(present=True, readable=True, path=str(tmp_path / "intel-rapl"))


# --------------------------------------------------------------------------------------------
# Doctor
# --------------------------------------------------------------------------------------------


@pytest.fixture
def torch_cuda(monkeypatch):
    """Simulate torch seeing CUDA (torch here is a CPU build)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    return torch


def test_doctor_can_measure(monkeypatch, torch_cuda):
    """Simulated: one H100 with its counter, torch reporting CUDA available, no Hub token."""
    install_fake_nvml(monkeypatch)
    report = doctor_report()
    assert report.can_measure is True, report.reason
    assert "H100" in report.reason
    assert report.nvml == NVMLStatus(
        available=True, error=None, driver_version="550.54.15", cuda_driver_version="12.4"
    )
    assert report.gpus == (
        DoctorGPU(
            index=0,
            name="NVIDIA H100 80GB HBM3",
            hardware_class="H100",
            architecture="Hopper",
            energy_counter=True,
            other_processes=(),
        ),
    )
    assert report.torch.cuda_available is True and report.torch.version
    assert report.hub_token == TokenStatus(configured=False, source=None)
    assert report.rapl.present is False


def test_doctor_notes_other_processes(monkeypatch, torch_cuda):
    """Simulated: one H100 with another process (pid 4242) on it."""
    fake = install_fake_nvml(monkeypatch)
    fake.add_process(0, pid=4242)
    report = doctor_report()
    assert report.gpus[0].other_processes == (4242,)
    assert "4242" in report.reason


def test_doctor_without_nvml(monkeypatch):
    """Simulated: the NVIDIA driver library is missing (nvmlInit: LIBRARY_NOT_FOUND)."""
    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    report = doctor_report()
    assert report.can_measure is False
    assert report.nvml.available is False
    assert "NVML Shared Library Not Found" in report.nvml.error
    assert "--no-energy" in report.reason
    assert report.gpus == ()


def test_doctor_pre_volta(monkeypatch, torch_cuda):
    """Simulated: a Tesla P100 (Pascal)."""
    install_fake_nvml(
        monkeypatch, gpus=[FakeGPU(name="Tesla P100-PCIE-16GB", architecture=pynvml.NVML_DEVICE_ARCH_PASCAL)]
    )
    report = doctor_report()
    assert report.can_measure is False
    assert report.gpus[0].energy_counter is False
    assert "Pascal" in report.reason and "Volta" in report.reason


def test_doctor_without_torch_cuda(monkeypatch):
    """Simulated: one H100; torch is the CPU build (no CUDA), as on this test machine."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    install_fake_nvml(monkeypatch)
    report = doctor_report()
    assert report.can_measure is False
    assert "torch cannot use CUDA" in report.reason


def test_doctor_without_torch(monkeypatch):
    """Simulated: torch not importable."""
    install_fake_nvml(monkeypatch)
    monkeypatch.setitem(sys.modules, "torch", None)
    report = doctor_report()
    assert report.torch.version is None and report.torch.cuda_available is False
    assert report.can_measure is False


def test_doctor_reports_token_source_but_never_the_token(monkeypatch, torch_cuda):
    """Simulated: HF_TOKEN set in the environment."""
    secret = "hf_SuperSecretTokenValue1234567890"
    monkeypatch.setenv("HF_TOKEN", secret)
    install_fake_nvml(monkeypatch)
    report = doctor_report()
    assert report.hub_token == TokenStatus(configured=True, source="HF_TOKEN env")
    assert secret not in json.dumps(dataclasses.asdict(report))
    assert secret not in repr(report)


def test_doctor_reports_login_token_file(monkeypatch, tmp_path):
    """Simulated: a token file written by `huggingface_hub login` (no HF_TOKEN)."""
    from huggingface_hub import constants

    secret = "hf_FileTokenValue0987654321"
    token_file = tmp_path / "token"
    token_file.write_text(secret + "\n")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token_file))
    install_fake_nvml(monkeypatch)
    report = doctor_report()
    assert report.hub_token == TokenStatus(configured=True, source="huggingface_hub login")
    assert secret not in json.dumps(dataclasses.asdict(report))


def test_own_pid_seen_from_the_host_is_not_another_process(monkeypatch, tmp_path):
    """Simulated: NVML (fake) reports this process under its host pid 90001, as it does inside a
    container; /proc/self/status is a file written by the test with that NSpid line."""
    status = tmp_path / "status"
    status.write_text(f"Name:\tpython\nNSpid:\t90001\t{os.getpid()}\n")
    monkeypatch.setattr(gpu_processes, "PROC_STATUS", str(status))
    install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(processes=[FakeProcess(pid=90001, used_memory_mib=900), FakeProcess(pid=4242)])],
    )
    assert hardware.own_pids() == {os.getpid(), 90001}
    assert [p.pid for p in hardware.other_gpu_processes([0])] == [4242]


def test_doctor_json_keeps_its_format(monkeypatch, torch_cuda):
    """Simulated: one H100 (driver 550.54.15, CUDA 12.4) with another process (pid 4242) on it, torch
    reporting CUDA available, no RAPL, no Hub token, a CPU named "Test CPU" with 2 cores (the
    cpuinfo reader replaced). ``energy-badge doctor --json`` prints the
    report with the keys, order and values users had from the dict version, and exits 0."""
    from click.testing import CliRunner

    from energy_badge import doctor as doctor_module
    from energy_badge.cli.doctor import doctor

    fake = install_fake_nvml(monkeypatch)
    fake.add_process(0, pid=4242)
    monkeypatch.setattr(doctor_module, "cpu_info", lambda: ("Test CPU", 2))
    result = CliRunner().invoke(doctor, ["--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    torch = torch_cuda
    assert list(printed) == [
        "nvml",
        "cuda_visible_devices",
        "gpus",
        "rapl",
        "cpu",
        "torch",
        "hub_token",
        "gpu_index",
        "can_measure",
        "reason",
    ]
    assert printed == {
        "nvml": {
            "available": True,
            "error": None,
            "driver_version": "550.54.15",
            "cuda_driver_version": "12.4",
        },
        "cuda_visible_devices": None,
        "gpus": [
            {
                "index": 0,
                "name": "NVIDIA H100 80GB HBM3",
                "hardware_class": "H100",
                "architecture": "Hopper",
                "energy_counter": True,
                "other_processes": [4242],
            }
        ],
        "rapl": {"present": False, "readable": False, "path": None},
        "cpu": {"model": "Test CPU", "count": 2},
        "torch": {
            "version": torch.__version__,
            "cuda_available": True,
            "cuda_version": torch.version.cuda,
            "error": None,
        },
        "hub_token": {"configured": False, "source": None},
        "gpu_index": 0,
        "can_measure": True,
        "reason": "GPU 0 (NVIDIA H100 80GB HBM3) has an NVML total-energy counter and torch can use it; "
        "note: other processes use it now (pids [4242]), a measurement would refuse",
    }


def test_doctor_table_lists_every_check(monkeypatch):
    """Simulated: no NVIDIA driver (nvmlInit: LIBRARY_NOT_FOUND), HF_TOKEN set. The table names each
    check and the verdict, exits 3, and never shows the token."""
    from click.testing import CliRunner

    from energy_badge.cli.doctor import doctor, doctor_rows

    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    monkeypatch.setenv("HF_TOKEN", "hf_secretTokenValue")
    rows = dict(doctor_rows(doctor_report()))
    assert rows["NVML (NVIDIA driver)"] == (
        "not available: NVML did not initialise: NVML Shared Library Not Found"
    )
    assert rows["GPUs"] == "none seen"
    assert rows["CPU/DRAM energy (RAPL)"] == "not present (CPU and DRAM energy will be null)"
    assert rows["Hub token"] == "configured (HF_TOKEN env)"
    assert rows["can measure on GPU 0"].startswith("no: no NVML (NVIDIA driver library)")
    result = CliRunner().invoke(doctor, [])
    assert result.exit_code == 3
    assert "can measure on GPU 0" in result.output and "hf_secret" not in result.output


# --------------------------------------------------------------------------------------------
# Isolation and device identity (issue 12)


def test_a_refused_process_list_makes_the_check_unknown(monkeypatch):
    """Simulated: NVML refusing the compute list (NO_PERMISSION), then the graphics list, then a
    GPU without an MPS list (NOT_SUPPORTED, which is no refusal). A refused list is "unknown",
    never "nobody"; a list the GPU does not have is skipped."""
    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(processes=[FakeProcess(pid=4242, kind="graphics")])])
    fake.fail("nvmlDeviceGetComputeRunningProcesses", pynvml.NVML_ERROR_NO_PERMISSION)
    check = gpu_process_check([0])
    assert check.unknown_reason.startswith("NVML refused the compute process list of GPU 0")
    assert [p.pid for p in check.others] == [4242]  # what could be read is still reported
    fake.heal()
    fake.fail("nvmlDeviceGetGraphicsRunningProcesses", pynvml.NVML_ERROR_NO_PERMISSION)
    assert "graphics process list" in gpu_process_check([0]).unknown_reason
    fake.heal()
    fake.fail("nvmlDeviceGetMPSComputeRunningProcesses", pynvml.NVML_ERROR_NOT_SUPPORTED)
    assert gpu_process_check([0]).unknown_reason is None
    assert other_gpu_processes([0]) == [GPUProcess(4242, 1024, 0, "graphics")]


def test_host_pids_in_a_container(monkeypatch):
    """Simulated: NVML, and the /proc of a container (a pid namespace that is not the host's) whose
    driver reports host pids. This process appears as 90001, absent from the namespace: it is
    taken to be this process. Beside another such pid, both are reported (either may be ours);
    beside this process's own pid, the foreign one is another process. In the host's namespace
    nothing is attributed."""
    ours = FakeProcess(pid=90001, in_namespace=False)
    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(processes=[ours])], host_namespace=False)
    check = gpu_process_check([0])
    assert check.others == () and check.attributed_pid == 90001 and check.unknown_reason is None
    fake.add_process(0, pid=90002).in_namespace = False
    assert [p.pid for p in gpu_process_check([0]).others] == [90001, 90002]
    fake.gpus[0].processes[1:] = [FakeProcess(pid=os.getpid())]
    check = gpu_process_check([0])
    assert [p.pid for p in check.others] == [90001] and check.attributed_pid is None
    host = install_fake_nvml(
        monkeypatch, gpus=[FakeGPU(processes=[FakeProcess(pid=90001, in_namespace=False)])]
    )
    assert host.host_namespace and [p.pid for p in other_gpu_processes([0])] == [90001]


def test_mig_mode_and_pci_bus_id_are_described(monkeypatch):
    """Simulated: a GPU with MIG mode on at PCI bus 0x3B, and one whose NVML has no MIG query."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(mig_mode=True, pci_bus=0x3B), FakeGPU()])
    gpus = probe_hardware().gpus
    assert (gpus[0].mig_mode, gpus[0].pci_bus_id) == (True, "00000000:3B:00.0")
    assert gpus[1].mig_mode is None


def test_cuda_devices_are_matched_to_nvml_by_uuid_then_pci_bus_id(monkeypatch):
    """Simulated: three GPUs in NVML's order, and torch.cuda (CUDA's boundary) enumerating them as
    2, 0, 1: CUDA 0 named by UUID (torch's form, without "GPU-"), CUDA 1 by PCI address only,
    CUDA 2 by neither (then, and for a UUID no NVML device has, the order is used and says so)."""
    import torch

    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(pci_bus=0x18), FakeGPU(pci_bus=0x2A), FakeGPU()])
    props = [
        SimpleNamespace(uuid=fake.gpus[2].uuid[4:], pci_bus_id=None),
        SimpleNamespace(uuid=None, pci_bus_id=0x18, pci_device_id=0, pci_domain_id=0),
        SimpleNamespace(uuid=None, pci_bus_id=None),
    ]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props[i])
    cuda = nvml.cuda_devices()
    assert cuda[0].uuid == fake.gpus[2].uuid and cuda[1].pci == (0, 0x18, 0)
    pynvml.nvmlInit()
    try:
        assert nvml.resolve(pynvml, [0, 1, 2], cuda) == [
            (0, 2, "uuid"),
            (1, 0, "pci_bus_id"),
            (2, 2, "order"),
        ]
        ghost = (nvml.CudaDevice(0, "GPU-not-a-real-uuid", None),)
        assert nvml.resolve(pynvml, [0], ghost) == [(0, 0, "order")]
    finally:
        pynvml.nvmlShutdown()
    assert [g.uuid for g in probe_hardware([0], cuda=cuda).gpus] == [fake.gpus[2].uuid]
    assert gpu_state([1], cuda=cuda)[0].index == 1
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert nvml.cuda_devices() is None
