"""Contains all the data models used in inputs/outputs"""

from .approval import Approval
from .approval_state import ApprovalState
from .backtest import Backtest
from .backtest_results_item import BacktestResultsItem
from .backtest_results_item_parsed_type_0 import BacktestResultsItemParsedType0
from .backtest_results_item_parsed_type_0_type import BacktestResultsItemParsedType0Type
from .candidate import Candidate
from .clash import Clash
from .health import Health
from .health_database import HealthDatabase
from .health_redis import HealthRedis
from .health_status import HealthStatus
from .health_worker import HealthWorker
from .health_worker_status import HealthWorkerStatus
from .page_meta import PageMeta
from .problem import Problem
from .pushbullet_account import PushbulletAccount
from .pushbullet_account_online import PushbulletAccountOnline
from .pushbullet_account_status import PushbulletAccountStatus
from .recon_impl_http_handlers_devices_list_devices_response_200 import (
    ReconImplHttpHandlersDevicesListDevicesResponse200,
)
from .recon_impl_http_handlers_devices_list_devices_trusted import (
    ReconImplHttpHandlersDevicesListDevicesTrusted,
)
from .recon_impl_http_handlers_devices_set_trust_body import (
    ReconImplHttpHandlersDevicesSetTrustBody,
)
from .recon_impl_http_handlers_devices_set_trust_body_trusted import (
    ReconImplHttpHandlersDevicesSetTrustBodyTrusted,
)
from .recon_impl_http_handlers_pushbullet_create_account_body import (
    ReconImplHttpHandlersPushbulletCreateAccountBody,
)
from .recon_impl_http_handlers_pushbullet_list_accounts_response_200 import (
    ReconImplHttpHandlersPushbulletListAccountsResponse200,
)
from .recon_impl_http_handlers_pushbullet_list_accounts_status import (
    ReconImplHttpHandlersPushbulletListAccountsStatus,
)
from .recon_impl_http_handlers_sms_finish_approval_body import (
    ReconImplHttpHandlersSmsFinishApprovalBody,
)
from .recon_impl_http_handlers_sms_finish_approval_body_outcome import (
    ReconImplHttpHandlersSmsFinishApprovalBodyOutcome,
)
from .recon_impl_http_handlers_sms_list_sms_response_200 import (
    ReconImplHttpHandlersSmsListSmsResponse200,
)
from .recon_impl_http_handlers_sms_list_sms_source import (
    ReconImplHttpHandlersSmsListSmsSource,
)
from .recon_impl_http_handlers_sms_review_sms_body import (
    ReconImplHttpHandlersSmsReviewSmsBody,
)
from .recon_impl_http_handlers_sms_review_sms_body_check_status import (
    ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus,
)
from .recon_impl_http_handlers_sms_start_approval_body import (
    ReconImplHttpHandlersSmsStartApprovalBody,
)
from .recon_impl_http_handlers_templates_backtest_template_body import (
    ReconImplHttpHandlersTemplatesBacktestTemplateBody,
)
from .recon_impl_http_handlers_templates_backtest_template_body_decimal_sep import (
    ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep,
)
from .recon_impl_http_handlers_templates_backtest_template_body_type import (
    ReconImplHttpHandlersTemplatesBacktestTemplateBodyType,
)
from .recon_impl_http_handlers_templates_create_template_body import (
    ReconImplHttpHandlersTemplatesCreateTemplateBody,
)
from .recon_impl_http_handlers_templates_create_template_body_decimal_sep import (
    ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep,
)
from .recon_impl_http_handlers_templates_create_template_body_type import (
    ReconImplHttpHandlersTemplatesCreateTemplateBodyType,
)
from .recon_impl_http_handlers_templates_list_templates_response_200 import (
    ReconImplHttpHandlersTemplatesListTemplatesResponse200,
)
from .recon_impl_http_handlers_whitelist_create_entry_body import (
    ReconImplHttpHandlersWhitelistCreateEntryBody,
)
from .recon_impl_http_handlers_whitelist_list_entries_response_200 import (
    ReconImplHttpHandlersWhitelistListEntriesResponse200,
)
from .shooter_device import ShooterDevice
from .shooter_device_online import ShooterDeviceOnline
from .shooter_device_trusted import ShooterDeviceTrusted
from .sms import Sms
from .sms_check_status import SmsCheckStatus
from .sms_detail import SmsDetail
from .sms_detail_approval_type_0 import SmsDetailApprovalType0
from .sms_detail_approval_type_0_state import SmsDetailApprovalType0State
from .sms_detail_check_status import SmsDetailCheckStatus
from .sms_detail_source import SmsDetailSource
from .sms_source import SmsSource
from .stats import Stats
from .stats_sms_by_status import StatsSmsByStatus
from .template import Template
from .template_created import TemplateCreated
from .template_created_collisions import TemplateCreatedCollisions
from .template_created_decimal_sep import TemplateCreatedDecimalSep
from .template_created_status import TemplateCreatedStatus
from .template_created_type import TemplateCreatedType
from .template_decimal_sep import TemplateDecimalSep
from .template_status import TemplateStatus
from .template_type import TemplateType
from .whitelist_entry import WhitelistEntry

__all__ = (
    "Approval",
    "ApprovalState",
    "Backtest",
    "BacktestResultsItem",
    "BacktestResultsItemParsedType0",
    "BacktestResultsItemParsedType0Type",
    "Candidate",
    "Clash",
    "Health",
    "HealthDatabase",
    "HealthRedis",
    "HealthStatus",
    "HealthWorker",
    "HealthWorkerStatus",
    "PageMeta",
    "Problem",
    "PushbulletAccount",
    "PushbulletAccountOnline",
    "PushbulletAccountStatus",
    "ReconImplHttpHandlersDevicesListDevicesResponse200",
    "ReconImplHttpHandlersDevicesListDevicesTrusted",
    "ReconImplHttpHandlersDevicesSetTrustBody",
    "ReconImplHttpHandlersDevicesSetTrustBodyTrusted",
    "ReconImplHttpHandlersPushbulletCreateAccountBody",
    "ReconImplHttpHandlersPushbulletListAccountsResponse200",
    "ReconImplHttpHandlersPushbulletListAccountsStatus",
    "ReconImplHttpHandlersSmsFinishApprovalBody",
    "ReconImplHttpHandlersSmsFinishApprovalBodyOutcome",
    "ReconImplHttpHandlersSmsListSmsResponse200",
    "ReconImplHttpHandlersSmsListSmsSource",
    "ReconImplHttpHandlersSmsReviewSmsBody",
    "ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus",
    "ReconImplHttpHandlersSmsStartApprovalBody",
    "ReconImplHttpHandlersTemplatesBacktestTemplateBody",
    "ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep",
    "ReconImplHttpHandlersTemplatesBacktestTemplateBodyType",
    "ReconImplHttpHandlersTemplatesCreateTemplateBody",
    "ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep",
    "ReconImplHttpHandlersTemplatesCreateTemplateBodyType",
    "ReconImplHttpHandlersTemplatesListTemplatesResponse200",
    "ReconImplHttpHandlersWhitelistCreateEntryBody",
    "ReconImplHttpHandlersWhitelistListEntriesResponse200",
    "ShooterDevice",
    "ShooterDeviceOnline",
    "ShooterDeviceTrusted",
    "Sms",
    "SmsCheckStatus",
    "SmsDetail",
    "SmsDetailApprovalType0",
    "SmsDetailApprovalType0State",
    "SmsDetailCheckStatus",
    "SmsDetailSource",
    "SmsSource",
    "Stats",
    "StatsSmsByStatus",
    "Template",
    "TemplateCreated",
    "TemplateCreatedCollisions",
    "TemplateCreatedDecimalSep",
    "TemplateCreatedStatus",
    "TemplateCreatedType",
    "TemplateDecimalSep",
    "TemplateStatus",
    "TemplateType",
    "WhitelistEntry",
)
