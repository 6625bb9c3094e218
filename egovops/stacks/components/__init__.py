"""The ComponentResources the stack program calls: CloudNode, PlatformService, ObjectStore, IndustryCloud."""

from egovops.stacks.components.cloud_node import CloudNode, CloudNodeArgs
from egovops.stacks.components.industry_cloud import IndustryCloud, IndustryCloudArgs
from egovops.stacks.components.object_store import ObjectStore, ObjectStoreArgs
from egovops.stacks.components.platform_service import PlatformService, PlatformServiceArgs

__all__ = ["CloudNode", "CloudNodeArgs", "PlatformService", "PlatformServiceArgs", "ObjectStore", "ObjectStoreArgs",
           "IndustryCloud", "IndustryCloudArgs"]
