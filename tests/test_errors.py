import errno
import pickle

import pytest

from rawns.errors import (
    PRIVILEGE_HINT,
    DecodeError,
    EncodeError,
    KernelError,
    RawnsError,
    kernel_error,
)


@pytest.mark.parametrize(
    ("code", "builtin"),
    [
        (errno.EEXIST, FileExistsError),
        (errno.ENOENT, FileNotFoundError),
        (errno.ENODEV, FileNotFoundError),
        (errno.EPERM, PermissionError),
        (errno.EACCES, PermissionError),
        (errno.ESRCH, ProcessLookupError),
    ],
)
def test_kernel_errors_are_the_matching_builtin(code, builtin):
    err = kernel_error(code, subject="netns 'x'", syscall="open")
    assert isinstance(err, builtin)
    assert isinstance(err, KernelError)
    assert isinstance(err, RawnsError)
    assert err.errno == code


def test_message_names_object_origin_and_kernel_text():
    err = kernel_error(errno.EEXIST, subject="link 'veth0'", msg_type="RTM_NEWLINK",
                       extack="Link already exists")
    assert str(err) == (
        "link 'veth0': [Errno 17] File exists "
        "(kernel: Link already exists; from RTM_NEWLINK)")
    assert err.extack == "Link already exists"


def test_permission_errors_carry_the_privilege_hint():
    err = kernel_error(errno.EPERM, syscall="unshare")
    assert PRIVILEGE_HINT in str(err)
    assert "CAP_SYS_ADMIN" in str(err)


def test_unknown_errno_is_a_plain_kernel_error():
    err = kernel_error(errno.EBUSY, syscall="umount2")
    assert type(err) is KernelError
    assert isinstance(err, OSError)


def test_kernel_errors_survive_pickling():
    err = kernel_error(errno.ENOENT, subject="netns 'a'", syscall="umount2")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert str(copy) == str(err)


def test_codec_errors_are_value_errors():
    err = DecodeError("attribute length 3 below header size", offset=20)
    assert isinstance(err, ValueError) and err.offset == 20
    assert "at byte 20" in str(err)
    assert issubclass(EncodeError, ValueError)
