//! `ERR` codes of the network protocol.

use alloc::borrow::Cow;
use core::fmt;

macro_rules! err_codes {
    ($($(#[$doc:meta])* $name:ident => $text:literal,)*) => {
        /// An `ERR <code>` of the network protocol. Codes this crate does not
        /// know are kept as [`ErrCode::Other`], never rejected.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrCode<'a> {
            $($(#[$doc])* $name,)*
            /// A code not listed above, kept as it was received.
            Other(Cow<'a, str>),
        }

        impl<'a> ErrCode<'a> {
            /// Every code this crate knows, in NUT's order.
            pub const KNOWN: &'static [ErrCode<'static>] = &[$(ErrCode::$name,)*];

            /// The code as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrCode::$name => $text,)*
                    ErrCode::Other(s) => s,
                }
            }

            /// Reads a code; known codes match exactly (NUT's clients compare
            /// case-sensitively), anything else becomes [`ErrCode::Other`].
            pub fn parse(code: Cow<'a, str>) -> Self {
                match &*code {
                    $($text => ErrCode::$name,)*
                    _ => ErrCode::Other(code),
                }
            }
        }
    };
}

err_codes! {
    /// Bad credentials or missing permission.
    AccessDenied => "ACCESS-DENIED",
    /// The UPS name is not known to the server.
    UnknownUps => "UNKNOWN-UPS",
    /// The variable does not exist on that UPS.
    VarNotSupported => "VAR-NOT-SUPPORTED",
    /// The instant command does not exist on that UPS.
    CmdNotSupported => "CMD-NOT-SUPPORTED",
    /// Wrong number or form of arguments.
    InvalidArgument => "INVALID-ARGUMENT",
    /// The driver could not be handed the instant command.
    InstcmdFailed => "INSTCMD-FAILED",
    /// The driver could not be handed the new value.
    SetFailed => "SET-FAILED",
    /// The variable is not writable.
    Readonly => "READONLY",
    /// The value is longer than the variable allows.
    TooLong => "TOO-LONG",
    /// The server was built without this feature.
    FeatureNotSupported => "FEATURE-NOT-SUPPORTED",
    /// The feature exists but is not set up (STARTTLS without certificates,
    /// GET TRACKING with tracking off).
    FeatureNotConfigured => "FEATURE-NOT-CONFIGURED",
    /// STARTTLS on a connection that already uses TLS.
    AlreadySslMode => "ALREADY-SSL-MODE",
    /// The UPS's driver is not connected to the server.
    DriverNotConnected => "DRIVER-NOT-CONNECTED",
    /// The driver is connected but its data is stale.
    DataStale => "DATA-STALE",
    /// A second LOGIN on one connection.
    AlreadyLoggedIn => "ALREADY-LOGGED-IN",
    /// Defined by NUT, never sent by its upsd.
    InvalidPassword => "INVALID-PASSWORD",
    /// A second PASSWORD on one connection.
    AlreadySetPassword => "ALREADY-SET-PASSWORD",
    /// Defined by NUT, never sent by its upsd.
    InvalidUsername => "INVALID-USERNAME",
    /// A second USERNAME on one connection.
    AlreadySetUsername => "ALREADY-SET-USERNAME",
    /// A privileged command before USERNAME.
    UsernameRequired => "USERNAME-REQUIRED",
    /// A privileged command before PASSWORD.
    PasswordRequired => "PASSWORD-REQUIRED",
    /// Unknown command, or an empty line.
    UnknownCommand => "UNKNOWN-COMMAND",
    /// A SET value outside the variable's ENUM or RANGE lists.
    InvalidValue => "INVALID-VALUE",
    /// Tracking outcome: the driver did not know the command or variable.
    Unknown => "UNKNOWN",
    /// Tracking outcome: the driver failed to carry it out.
    Failed => "FAILED",
    /// Legacy code, still understood by NUT's client library.
    VarUnknown => "VAR-UNKNOWN",
    /// Legacy code, still understood by NUT's client library.
    UnknownType => "UNKNOWN-TYPE",
    /// Legacy code, still understood by NUT's client library.
    UnknownInstcmd => "UNKNOWN-INSTCMD",
    /// Legacy code, still understood by NUT's client library.
    MissingArgument => "MISSING-ARGUMENT",
    /// Legacy code, still understood by NUT's client library.
    PasswordIncorrect => "PASSWORD-INCORRECT",
    /// Legacy code, still understood by NUT's client library.
    UnknownVar => "UNKNOWN-VAR",
}

impl ErrCode<'_> {
    /// Detaches the code from the input it was parsed from.
    pub fn into_owned(self) -> ErrCode<'static> {
        match self {
            ErrCode::Other(s) => ErrCode::Other(Cow::Owned(s.into_owned())),
            // Every other variant holds no borrowed data.
            other => ErrCode::parse(Cow::Owned(alloc::string::String::from(other.as_str()))),
        }
    }

    /// The message NUT 2.8's client library prints for this code
    /// (`upscli_strerror`), without the `Error: ` prefix. Codes its table
    /// does not map (INVALID-ARGUMENT, the FEATURE-* codes, ...) print as
    /// "Unknown error" there, and so here.
    pub fn description(&self) -> &'static str {
        match self {
            ErrCode::VarNotSupported => "Variable not supported by UPS",
            ErrCode::UnknownUps => "Unknown UPS",
            ErrCode::AccessDenied => "Access denied",
            ErrCode::PasswordRequired => "Password required",
            ErrCode::PasswordIncorrect => "Password incorrect",
            ErrCode::MissingArgument => "Missing argument",
            ErrCode::DataStale => "Data stale",
            ErrCode::VarUnknown => "Variable unknown",
            ErrCode::AlreadyLoggedIn => "Already logged in",
            ErrCode::AlreadySetPassword => "Already set password",
            ErrCode::UnknownType => "Unknown variable type",
            ErrCode::UnknownVar => "Unknown variable",
            ErrCode::Readonly => "Read-only variable",
            ErrCode::TooLong => "New value is too long",
            ErrCode::InvalidValue => "Invalid value for variable",
            ErrCode::SetFailed => "Set command failed",
            ErrCode::UnknownInstcmd => "Unknown instant command",
            ErrCode::InstcmdFailed => "Instant command failed",
            ErrCode::CmdNotSupported => "Instant command not supported",
            ErrCode::InvalidUsername => "Invalid username",
            ErrCode::AlreadySetUsername => "Already set username",
            ErrCode::UnknownCommand => "Unknown command",
            ErrCode::InvalidPassword => "Invalid password",
            ErrCode::UsernameRequired => "Username required",
            ErrCode::DriverNotConnected => "Driver not connected",
            _ => "Unknown error",
        }
    }
}

impl fmt::Display for ErrCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips() {
        for code in ErrCode::KNOWN {
            assert_eq!(&ErrCode::parse(Cow::Borrowed(code.as_str())), code);
        }
        assert_eq!(
            ErrCode::parse(Cow::Borrowed("NEW-CODE")),
            ErrCode::Other(Cow::Borrowed("NEW-CODE"))
        );
        assert_eq!(ErrCode::AccessDenied.into_owned(), ErrCode::AccessDenied);
    }
}
